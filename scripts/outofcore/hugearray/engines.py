"""The huge-array stage's reduce engines: per-column sum, mean, min and max of a store,
out of core, computed three ways.

- ``threads``: the stage's own reduce: the store's `PieceReader` hands pieces to
  `threads` workers, each folding them into its own statistics (`read_in_parallel`).
- ``dask``: what a dask user writes: `dask.array.from_array` over the store opened by
  its own library (zarr, PyTables, h5py, blosc2; the .npy file through windows mapped
  per slice), chunks of one block (a whole number of the store's chunks), then
  `sum/mean/min/max(axis=0)` computed together on the threaded scheduler with the
  job's threads. HDF5 and blosc2 reads go through dask's lock: those libraries must
  not be entered from two threads. If a sum is NaN (missing values), a second pass
  with `nansum`, `nanmean`, `nanmin`, `nanmax` and a count of the NaN, as a dask user
  would then write.
- ``blosc2``: the blosc2 NDArray's own reductions (blosc2 store only); with missing
  values, lazy expressions over the present ones (`blosc2.where`, `blosc2.isnan`).

Each returns `ColumnStats`; the job compares them with the exact ones.
"""

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from outofcore.hugearray.data import ColumnStats
from outofcore.hugearray.stores.backend import Backend
from outofcore.hugearray.stores.layout import StoreSpec
from outofcore.hugearray.stores.reading import read_in_parallel

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


def reduce_dask(store: Backend, path: Path, spec: StoreSpec, advance: Advance) -> ColumnStats:
    import dask  # imported here (first by `get_engine`): only the dask jobs count it in their RSS
    import dask.array as da

    if store.opener is None:
        raise ValueError(f"the {store.name} store has no array for dask")

    def counted(block: np.ndarray) -> np.ndarray:  # the same block, its rows counted as read
        advance(len(block))
        return block

    opened = store.opener(path, spec)
    try:
        layout = spec.layout
        chunks = (layout.block_rows, layout.columns)
        array = da.from_array(opened.array, chunks=chunks, lock=opened.lock, asarray=True)
        array = array.map_blocks(counted, dtype=array.dtype)
        run = {"scheduler": "threads", "num_workers": spec.threads}
        total, mean, low, high = dask.compute(
            array.sum(axis=0), array.mean(axis=0), array.min(axis=0), array.max(axis=0), **run
        )
        missing = None
        if np.isnan(total).any():  # what a dask user then writes: the NaN-aware reductions
            with warnings.catch_warnings():  # a column of NaN only: its mean and extremes are NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                total, mean, low, high, missing = dask.compute(
                    da.nansum(array, axis=0), da.nanmean(array, axis=0), da.nanmin(array, axis=0),
                    da.nanmax(array, axis=0), da.isnan(array).sum(axis=0), **run,
                )  # fmt: skip
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


ENGINES: dict[str, Engine] = {"threads": reduce_threads, "dask": reduce_dask, "blosc2": reduce_native}


def get_engine(name: str, store: Backend) -> Engine:
    """The engine `name`, refused for a store it cannot run on."""
    if name not in ENGINES:
        raise ValueError(f"unknown reduce engine {name!r}; known: {', '.join(ENGINES)}")
    if (name == "dask" and store.opener is None) or (name == "blosc2" and store.native is None):
        raise ValueError(f"reduce engine {name!r} does not run on the {store.name} store")
    if name == "dask":  # imported now, so the reduce's clock does not count the import
        import dask.array  # noqa: F401
    return ENGINES[name]
