"""The huge-array stage's stores as the rules see them: each backend's name, the suffix
of its output and whether that output is one file or a directory; the reduce engines,
with the stores each one runs on; and the settings each job is measured at.

Settings (the `setting` column): `pipeline` is this workflow's own code (direct chunk
writes, its threaded reduce) and runs once; a store or engine that a user configures
runs as `default` (what a newcomer types) and `tuned` (as its own documentation
advises), each a job of its own. A tuned job's label is `<backend>.tuned`
(`results/hugearray/{size_mb}/{data}/{engine}/zarr.tuned.csv`); the default's and the
pipeline's is the backend's name, the paths the stage always had.

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
    "h5py_filter": StoreKind(".h5", directory=False),
}

SETTINGS = ("default", "tuned", "pipeline")  # the `setting` column's values
TUNED = ".tuned"  # a tuned job's label: its backend's name and this
# Stores and engines a user configures (the others are this workflow's own: `pipeline`).
TUNABLE_STORES = ("zarr", "tables_filter", "h5py_filter")
TUNABLE_ENGINES = ("dask", "blosc2")
DASK_TUNED_CHUNK_MB = 128  # tuned dask chunks: within the 100 MB - 1 GB its docs advise

# Reduce engines -> the stores they run on (None: every store). `threads`: the stage's
# own threaded block reduce; `dask`: dask.array over the store's library; `blosc2`: the
# blosc2 NDArray's own reductions.
# `dask_distributed`: a task per block on dask.distributed workers (local or SLURM).
ENGINES: dict[str, tuple[str, ...] | None] = {
    "threads": None,
    "dask": None,
    "blosc2": ("blosc2",),
    "dask_distributed": None,
}


def stores_with_engine(engine: str, backends: list[str]) -> list[str]:
    """The `backends` that `engine` runs on, in order."""
    only = ENGINES[engine]
    return [name for name in backends if only is None or name in only]


def tunable(backend: str, engine: str) -> bool:
    """True if the job has `default` and `tuned` settings (else it is `pipeline` only)."""
    return backend in TUNABLE_STORES or engine in TUNABLE_ENGINES


def job_label(backend: str, setting: str) -> str:
    """The `{backend}` of a job's paths: the backend's name, `<backend>.tuned` when tuned."""
    return backend + TUNED if setting == "tuned" else backend


def backend_of(label: str) -> str:
    """The backend of a job label (`zarr.tuned` -> `zarr`)."""
    return label.removesuffix(TUNED)


def setting_of(label: str, engine: str) -> str:
    """The setting a job label runs at: tuned, default, or pipeline (nothing to configure)."""
    if label.endswith(TUNED):
        if not tunable(backend_of(label), engine):
            raise ValueError(f"{backend_of(label)} with engine {engine} has no tuned setting (pipeline only)")
        return "tuned"
    return "default" if tunable(label, engine) else "pipeline"


def jobs(
    backends: list[str], engines: list[str], settings: list[str] | tuple[str, ...] = ("default", "tuned")
) -> list[tuple[str, str]]:
    """(job label, engine) of every job of one size: each engine on each store it runs on,
    at each of `settings` where the store or engine has settings, else once (pipeline)."""
    return [
        (job_label(name, setting), engine)
        for engine in engines
        for name in stores_with_engine(engine, backends)
        for setting in (settings if tunable(name, engine) else ["pipeline"])
    ]


def naive_job(backend: str, engine: str, backends: list[str], engines: list[str], cap_mb: int | None) -> bool:
    """True for the one job per size and data source that also loads its store whole under
    the memory cap (the naive way): the first engine's job on the h5py store (`[:]`), else
    on memmap (`np.load`), else on the first store; none without a cap."""
    if not cap_mb:
        return False
    preferred = [name for name in ("h5py", "memmap") if name in backends] or backends[:1]
    first = next((e for e in engines if stores_with_engine(e, [preferred[0]])), None)
    return backend == preferred[0] and engine == first


def job_tables(
    pattern: str,
    sizes_mb: list[int],
    data: list[str],
    backends: list[str],
    engines: list[str],
    suffix: str = ".csv",
    settings: list[str] | tuple[str, ...] = ("default", "tuned"),
) -> list[str]:
    """The per-job tables the stage gathers: `pattern` (a job's path without its suffix,
    wildcards size_mb, data, engine, backend) filled for each size, data source, store
    and engine, plus `suffix`: the measurements, or ".node_limits.csv", the limits a job
    measured on another node than the limits job's."""
    return [
        pattern.format(size_mb=size_mb, data=source, engine=engine, backend=backend) + suffix
        for size_mb in sizes_mb
        for source in data
        for backend, engine in jobs(backends, engines, settings)
    ]


def source_inputs(is_file: bool, sources: str) -> list[str]:
    """A job reading a user's file waits for the data_sources job (its table `sources`),
    which opens every file with its library and refuses what the config check could not see."""
    return [sources] if is_file else []


def backends_stored_as(suffix: str) -> str:
    """Wildcard constraint matching the job labels of the backends whose output ends in
    `suffix` (each backend's name, tuned or not)."""
    names = [name for name, kind in STORES.items() if kind.suffix == suffix]
    if not names:
        raise ValueError(f"no huge-array backend stores its array as *{suffix}")
    return f"(?:{'|'.join(names)})(?:\\{TUNED})?"


def stored_as_directory(suffix: str) -> bool:
    """True if the backends whose output ends in `suffix` write a directory."""
    kinds = {kind.directory for kind in STORES.values() if kind.suffix == suffix}
    if len(kinds) != 1:
        raise ValueError(f"backends storing *{suffix} disagree on file or directory: {kinds}")
    return kinds.pop()
