"""The huge-array stage's reduce engines: per-column sum, mean, min and max of a store,
out of core, computed three ways.

- ``threads``: the stage's own reduce: the store's `PieceReader` hands pieces to
  `threads` workers, each folding them into its own statistics (`read_in_parallel`).
- ``dask``: dask.array over the store opened by its own library (zarr, PyTables, h5py,
  blosc2; the .npy file through windows mapped per slice), on the threaded scheduler
  with the job's threads. HDF5 and blosc2 reads go through dask's lock: those
  libraries must not be entered from two threads. ``default``, as a newcomer writes
  it: `da.from_array(array)` (dask's own chunks) and one `.compute()` per statistic,
  four passes over the store. ``tuned``, as dask's best practices advise: chunks of
  about DASK_TUNED_CHUNK_MB (within 100 MB - 1 GB), a whole number of the store's
  chunks, `da.from_zarr` over a Zarr store, and the statistics computed together,
  one pass (`dask_array`, `dask_statistics`). If a sum is NaN (missing values), a
  second pass with `nansum`, `nanmean`, `nanmin`, `nanmax` and a count of the NaN, as
  a dask user would then write.
- ``blosc2``: the blosc2 NDArray's own reductions (blosc2 store only): four calls as a
  user types them (default), or sum, min and max with the mean as sum / rows (tuned);
  with missing values, lazy expressions over the present ones (`blosc2.where`,
  `blosc2.isnan`).
- ``dask_distributed``: a task per block on dask.distributed workers (a LocalCluster, or
  SLURM nodes), each opening the store itself and returning its block's statistics
  (`dask_cluster`); the job starts the cluster before the reduce's clock.

Each returns `ColumnStats`; the job compares them with the exact ones.
"""

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from outofcore.hugearray.data import ColumnStats
from outofcore.hugearray.stores.backend import Backend, OpenArray
from outofcore.hugearray.stores.layout import Layout, StoreSpec
from outofcore.hugearray.stores.reading import read_in_parallel
from outofcore.plan.hugearray_stores import DASK_TUNED_CHUNK_MB
from outofcore.plan.sizing import MiB

Advance = Callable[[int], None]  # told the rows read so far (the job's progress)
Engine = Callable[[Backend, Path, StoreSpec, Advance], ColumnStats]


def reduce_threads(store: Backend, path: Path, spec: StoreSpec, advance: Advance) -> ColumnStats:
    def counted(stats: ColumnStats) -> Callable[[np.ndarray], None]:
        def sink(block: np.ndarray) -> None:
            stats.add_block(block)
            advance(len(block))

        return sink

    reader = store.reader(path, spec)
    try:
        partial = [ColumnStats(spec.layout.columns) for _ in range(spec.threads)]
        read_in_parallel(reader, [counted(stats) for stats in partial])
    finally:
        reader.close()
    return ColumnStats.merged(partial)


def tuned_chunk_rows(layout: Layout) -> int:
    """Rows of a tuned dask chunk: DASK_TUNED_CHUNK_MB, a whole number of the store's
    chunks (so no stored chunk is read twice), at most the array."""
    chunk_bytes = layout.chunk_rows * layout.columns * 8
    chunks = max(1, DASK_TUNED_CHUNK_MB * MiB // chunk_bytes)
    return min(layout.rows, chunks * layout.chunk_rows)


def dask_array(store: Backend, opened: OpenArray, layout: Layout, setting: str) -> Any:
    """The store as a dask array: dask's own chunks (default), or tuned chunks, through
    `da.from_zarr` for a Zarr store."""
    import dask.array as da

    if setting == "default":
        return da.from_array(opened.array, lock=opened.lock, asarray=True)
    chunks = (tuned_chunk_rows(layout), layout.columns)
    if store.name == "zarr":
        return da.from_zarr(opened.array, chunks=chunks)
    return da.from_array(opened.array, chunks=chunks, lock=opened.lock, asarray=True)


def dask_statistics(array: Any, setting: str, threads: int) -> tuple[Any, Any, Any, Any]:
    """(sum, mean, min, max) over the rows: one `.compute()` each (default: a pass each),
    or computed together (tuned: one pass, the mean as sum / rows)."""
    import dask

    with dask.config.set(scheduler="threads", num_workers=threads):
        if setting == "default":
            return tuple(part.compute() for part in (array.sum(axis=0), array.mean(axis=0),
                                                      array.min(axis=0), array.max(axis=0)))  # fmt: skip
        total, low, high = dask.compute(array.sum(axis=0), array.min(axis=0), array.max(axis=0))
    return total, total / array.shape[0], low, high


def present_statistics(array: Any, threads: int) -> tuple[Any, ...]:
    """(sum, mean, min, max, count of NaN) over the values present, in one pass."""
    import dask
    import dask.array as da

    with warnings.catch_warnings():  # a column of NaN only: its mean and extremes are NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return dask.compute(
            da.nansum(array, axis=0), da.nanmean(array, axis=0), da.nanmin(array, axis=0),
            da.nanmax(array, axis=0), da.isnan(array).sum(axis=0), scheduler="threads", num_workers=threads,
        )  # fmt: skip


def reduce_dask(store: Backend, path: Path, spec: StoreSpec, advance: Advance) -> ColumnStats:
    if store.opener is None:
        raise ValueError(f"the {store.name} store has no array for dask")

    def counted(block: np.ndarray) -> np.ndarray:  # the same block, its rows counted as read
        advance(len(block))
        return block

    opened = store.opener(path, spec)
    try:
        array = dask_array(store, opened, spec.layout, spec.engine_setting)
        array = array.map_blocks(counted, dtype=array.dtype)
        total, mean, low, high = dask_statistics(array, spec.engine_setting, spec.threads)
        missing = None
        if np.isnan(total).any():  # what a dask user then writes: the NaN-aware reductions
            total, mean, low, high, missing = present_statistics(array, spec.threads)
        rows = array.shape[0]
    finally:
        opened.close()
    return ColumnStats.computed(rows, total, mean, low, high, missing)


def reduce_native(store: Backend, path: Path, spec: StoreSpec, advance: Advance) -> ColumnStats:
    if store.native is None:
        raise ValueError(f"the {store.name} store has no reductions of its own")
    stats = store.native(path, spec)
    return ColumnStats.computed(
        spec.layout.rows, stats.total, stats.mean, stats.low, stats.high, stats.missing
    )


def reduce_dask_distributed(store: Backend, path: Path, spec: StoreSpec, advance: Advance) -> ColumnStats:
    from outofcore.hugearray.dask_cluster import reduce_distributed  # distributed: only its jobs load it

    return reduce_distributed(store, path, spec, advance)


ENGINES: dict[str, Engine] = {
    "threads": reduce_threads,
    "dask": reduce_dask,
    "blosc2": reduce_native,
    "dask_distributed": reduce_dask_distributed,
}


def get_engine(name: str, store: Backend) -> Engine:
    """The engine `name`, refused for a store it cannot run on."""
    if name not in ENGINES:
        raise ValueError(f"unknown reduce engine {name!r}; known: {', '.join(ENGINES)}")
    if (name == "dask" and store.opener is None) or (name == "blosc2" and store.native is None):
        raise ValueError(f"reduce engine {name!r} does not run on the {store.name} store")
    if name == "dask":  # imported now, so the reduce's clock does not count the import
        import dask.array  # noqa: F401
    if name == "dask_distributed":
        import outofcore.hugearray.dask_cluster  # noqa: F401
    return ENGINES[name]
