"""The jobs a stage fans out to, computed from the config by the Snakemake process."""

PACK_ARRAY_CODEC = "blosclz"  # pack_array's default codec: the tutorial never chose one


def blosc_combinations(methods: list[str], codecs: list[str]) -> list[tuple[str, str]]:
    """(method, codec) of every blosc sweep job: pack_array only with its own default codec."""
    return [
        (method, codec)
        for method in methods
        for codec in ([PACK_ARRAY_CODEC] if method == "pack_array" else codecs)
    ]
