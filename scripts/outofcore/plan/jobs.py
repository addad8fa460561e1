"""The jobs a stage fans out to, computed from the config by the Snakemake process."""

import re
from collections.abc import Iterable

PACK_ARRAY_CODEC = "blosclz"  # pack_array's default codec: the tutorial never chose one


def blosc_combinations(methods: list[str], codecs: list[str]) -> list[tuple[str, str]]:
    """(method, codec) of every blosc sweep job: pack_array only with its own default codec."""
    return [
        (method, codec)
        for method in methods
        for codec in ([PACK_ARRAY_CODEC] if method == "pack_array" else codecs)
    ]


# The particle table in the other stores (particles.formats): file of each, beside table.h5.
PARTICLE_STORE_FILES = {"parquet": "table.parquet", "hdfstore": "table_hdfstore.h5"}


def particle_store_outputs(formats: list[str]) -> dict[str, str]:
    """Named outputs of the particles rule for the configured stores (format -> path)."""
    return {fmt: f"results/particles/{{rows}}/{PARTICLE_STORE_FILES[fmt]}" for fmt in formats}


def one_of(values: Iterable[object]) -> str:
    """Wildcard constraint matching exactly the configured values: a target naming any
    other (`results/hugearray/0/tables.csv`) matches no rule, so every job runs with
    values the config check accepted."""
    return "|".join(re.escape(str(value)) for value in values)
