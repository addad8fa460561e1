"""Backend ``blosc2``: python-blosc2's own on-disk array, an `NDArray` in one ``.b2nd``
file (a contiguous blosc2 frame), written block by block, read back by slices, and the
only store with its own reductions (engine ``blosc2``: `NDArray.sum`, `mean`, `min`,
`max` over the rows).

Chunks have the shape of the HDF5 backends' chunks (``chunk_kb``); blosc2 blocks inside
them are ``hugearray.blosc2.block_kb`` of whole rows. Any configured codec is applied by
blosc2 (``blosc:<codec>`` and ``zlib`` as the blosc2 codec of that name), byte shuffle,
level 5.
"""

from pathlib import Path
from typing import Any

import blosc2
import numpy as np

from outofcore.hugearray.stores.backend import Backend, NativeStats, OpenArray
from outofcore.hugearray.stores.hdf5_chunks import CLEVEL
from outofcore.hugearray.stores.layout import StoreSpec, power_of_two_at_most, split_compression
from outofcore.hugearray.stores.reading import BlockReader, PieceReader


def b2nd_compression(configured: str) -> str:
    library, codec = split_compression(configured)
    if library in ("blosc", "blosc2"):
        return f"blosc2:{codec}"
    return "blosc2:zlib" if library == "zlib" else "none"


def b2nd_cparams(spec: StoreSpec) -> blosc2.CParams:
    codec = split_compression(spec.compression)[1]
    if codec is None:  # stored raw
        return blosc2.CParams(clevel=0, typesize=8, nthreads=spec.threads)
    return blosc2.CParams(
        codec=blosc2.Codec[codec.upper()],
        clevel=CLEVEL,
        filters=[blosc2.Filter.SHUFFLE],
        typesize=8,
        nthreads=spec.threads,
    )


def b2nd_shapes(spec: StoreSpec) -> tuple[tuple[int, int], tuple[int, int]]:
    """(chunk shape, block shape): a block is whole rows and divides the chunk."""
    layout = spec.layout
    block_rows = power_of_two_at_most(spec.b2nd_block_kb * 1024 // (8 * layout.columns))
    return (layout.chunk_rows, layout.columns), (min(layout.chunk_rows, block_rows), layout.columns)


class B2ndWriter:
    """An NDArray of the final shape in a .b2nd file, filled block by block."""

    def __init__(self, path: Path, spec: StoreSpec) -> None:
        chunks, blocks = b2nd_shapes(spec)
        self.array = blosc2.empty(
            (spec.layout.rows, spec.layout.columns),
            dtype=np.float64,
            chunks=chunks,
            blocks=blocks,
            urlpath=str(path),
            mode="w",
            contiguous=True,
            cparams=b2nd_cparams(spec),
            dparams=blosc2.DParams(nthreads=spec.threads),
        )
        self.written = 0

    def append(self, block: np.ndarray) -> None:
        self.array[self.written : self.written + len(block)] = block
        self.written += len(block)

    def close(self) -> None:
        del self.array  # the frame's file is closed with its last reference


def open_b2nd(path: Path, spec: StoreSpec) -> blosc2.NDArray:
    array = blosc2.open(str(path), mode="r", dparams=blosc2.DParams(nthreads=spec.threads))
    if not isinstance(array, blosc2.NDArray):
        raise ValueError(f"{path}: not a blosc2 NDArray")
    return array


def b2nd_reader(path: Path, spec: StoreSpec) -> PieceReader:
    """Blocks sliced out of the NDArray (blosc2 decompresses on the job's threads)."""
    array = open_b2nd(path, spec)

    def read_rows(start: int, stop: int, out: np.ndarray) -> None:
        out[...] = array[start:stop]

    return BlockReader(spec.layout, path, read_rows)


class SlicesOnly:
    """The NDArray as dask needs it: shape, dtype and slicing, nothing else.

    `dask.array.from_array(ndarray)` calls `NDArray.copy()`, which copies the whole
    compressed array into memory (1.7 GB of RSS for a 4 GiB array here): handed this
    view, dask reads the file slice by slice."""

    def __init__(self, array: blosc2.NDArray) -> None:
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, array.ndim

    def __getitem__(self, index: Any) -> np.ndarray:
        return self.array[index]


def b2nd_opener(path: Path, spec: StoreSpec) -> OpenArray:
    return OpenArray(SlicesOnly(open_b2nd(path, spec)), lock=True, close=lambda: None)


def own_reductions(array: Any, setting: str) -> NativeStats:
    """The NDArray's own reductions over the rows. Default, as a user types them: one call
    (one pass over the array) per statistic, four. Tuned, the fewest passes its API
    allows: `sum`, `min`, `max` (each reduction is its own pass), the mean is the sum
    over the rows, as `NDArray.mean` computes it (the same float64 division). With
    missing values (a NaN sum), the same reductions over the present values, as lazy
    expressions."""
    total = np.asarray(array.sum(axis=0))
    if np.isnan(total).any():
        return present_reductions(array)
    mean = np.asarray(array.mean(axis=0)) if setting == "default" else total / array.shape[0]
    return NativeStats(
        total=total, mean=mean, low=np.asarray(array.min(axis=0)), high=np.asarray(array.max(axis=0))
    )


def present_reductions(array: blosc2.NDArray) -> NativeStats:
    """Sum, mean, min and max of the values that are not NaN, and the count of NaN."""
    gone = blosc2.isnan(array)
    missing = np.asarray(gone.sum(axis=0))
    present = array.shape[0] - missing
    total = np.asarray(blosc2.where(gone, 0.0, array).sum(axis=0))
    low = np.asarray(blosc2.where(gone, np.inf, array).min(axis=0))
    high = np.asarray(blosc2.where(gone, -np.inf, array).max(axis=0))
    mean = np.divide(total, present, out=np.full(len(total), np.nan), where=present > 0)
    return NativeStats(total=total, mean=mean, low=low, high=high, missing=missing)


def b2nd_native(path: Path, spec: StoreSpec) -> NativeStats:
    return own_reductions(open_b2nd(path, spec), spec.engine_setting)


BACKEND = Backend(
    name="blosc2",
    suffix=".b2nd",
    directory=False,
    compresses=True,
    direct_chunks=False,
    writer=B2ndWriter,
    reader=b2nd_reader,
    opener=b2nd_opener,
    native=b2nd_native,
    stored_compression=b2nd_compression,
)
