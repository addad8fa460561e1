"""The jobs a stage fans out to, computed from the config by the Snakemake process."""

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
