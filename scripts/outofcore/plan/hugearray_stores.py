"""The huge-array stage's stores as the rules see them: each backend's name, the suffix
of its output and whether that output is one file or a directory; and the reduce engines,
with the stores each one runs on.

The job side (`outofcore.hugearray.stores.registry`) holds the same facts beside the code that
writes and reads each store, and refuses to load if the two disagree.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class StoreKind:
    suffix: str  # of the output, e.g. ".h5": `results/hugearray/{size_mb}/{data}/{engine}/{backend}{suffix}`
    directory: bool  # the store is a directory (Snakemake `directory()` output), not a file


STORES: dict[str, StoreKind] = {
    "tables": StoreKind(".h5", directory=False),
    "h5py": StoreKind(".h5", directory=False),
    "memmap": StoreKind(".npy", directory=False),
    "zarr": StoreKind(".zarr", directory=True),
    "blosc2": StoreKind(".b2nd", directory=False),
    "tables_filter": StoreKind(".h5", directory=False),
}

# Reduce engines -> the stores they run on (None: every store). `threads`: the stage's
# own threaded block reduce; `dask`: dask.array over the store's library; `blosc2`: the
# blosc2 NDArray's own reductions.
ENGINES: dict[str, tuple[str, ...] | None] = {"threads": None, "dask": None, "blosc2": ("blosc2",)}


def stores_with_engine(engine: str, backends: list[str]) -> list[str]:
    """The `backends` that `engine` runs on, in order."""
    only = ENGINES[engine]
    return [name for name in backends if only is None or name in only]


def jobs(backends: list[str], engines: list[str]) -> list[tuple[str, str]]:
    """(backend, engine) of every job of one size: each engine on each store it runs on."""
    return [(name, engine) for engine in engines for name in stores_with_engine(engine, backends)]


def job_tables(
    pattern: str,
    sizes_mb: list[int],
    data: list[str],
    backends: list[str],
    engines: list[str],
    suffix: str = ".csv",
) -> list[str]:
    """The per-job tables the stage gathers: `pattern` (a job's path without its suffix,
    wildcards size_mb, data, engine, backend) filled for each size, data source, store
    and engine, plus `suffix`: the measurements, or ".node_limits.csv", the limits a job
    measured on another node than the limits job's."""
    return [
        pattern.format(size_mb=size_mb, data=source, engine=engine, backend=backend) + suffix
        for size_mb in sizes_mb
        for source in data
        for backend, engine in jobs(backends, engines)
    ]


def source_inputs(is_file: bool, sources: str) -> list[str]:
    """A job reading a user's file waits for the data_sources job (its table `sources`),
    which opens every file with its library and refuses what the config check could not see."""
    return [sources] if is_file else []


def backends_stored_as(suffix: str) -> str:
    """Wildcard constraint matching the backends whose output ends in `suffix`."""
    names = [name for name, kind in STORES.items() if kind.suffix == suffix]
    if not names:
        raise ValueError(f"no huge-array backend stores its array as *{suffix}")
    return "|".join(names)


def stored_as_directory(suffix: str) -> bool:
    """True if the backends whose output ends in `suffix` write a directory."""
    kinds = {kind.directory for kind in STORES.values() if kind.suffix == suffix}
    if len(kinds) != 1:
        raise ValueError(f"backends storing *{suffix} disagree on file or directory: {kinds}")
    return kinds.pop()
