"""The jobs a stage fans out to, computed from the config by the Snakemake process."""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from outofcore.plan import table_formats

PACK_ARRAY_CODEC = "blosclz"  # pack_array's default codec: the tutorial never chose one
ALL = "all"  # a thread count meaning every core the job was given


def blosc_combinations(methods: list[str], codecs: list[str]) -> list[tuple[str, str]]:
    """(method, codec) of every blosc sweep job: pack_array only with its own default codec."""
    return [
        (method, codec)
        for method in methods
        for codec in ([PACK_ARRAY_CODEC] if method == "pack_array" else codecs)
    ]


def resolve_threads(threads: Iterable[int | str], cores: int) -> list[int]:
    """The thread counts of a job with `cores` cores, `all` replaced by `cores`, each once, sorted."""
    return sorted({max(1, int(cores)) if t == ALL else int(t) for t in threads})


def threads_request(threads: Iterable[int | str], cores: int) -> int:
    """Cores a job asks for: its largest thread count (`all`: the cores Snakemake has)."""
    return max(resolve_threads(threads, cores))


def fixed_threads(threads: Iterable[int | str]) -> list[int]:
    """The numeric thread counts (`all` left out: the job measures it on its own cores)."""
    return sorted({int(t) for t in threads if t != ALL})


# The particle table in the other stores (particles.formats): file of each, beside table.h5.
PARTICLE_STORE_FILES = table_formats.FILES
particle_store_outputs = table_formats.outputs


def particle_shares(particles: Mapping[str, Any], rows: int) -> list[float]:
    """The shares of the rows (`particles.queries`) the job of `rows` asks: the largest
    table's only, the one the decision reads (on the small ones each would time call
    overheads and lengthen the run)."""
    return list(particles["queries"]) if rows == max(particles["rows"]) else []


def one_of(values: Iterable[object]) -> str:
    """Wildcard constraint matching exactly the configured values: a target naming any
    other (`results/hugearray/0/tables.csv`) matches no rule, so every job runs with
    values the config check accepted."""
    return "|".join(re.escape(str(value)) for value in values)
