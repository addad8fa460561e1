"""Backend ``zarr``: a Zarr format 3 array (zarr-python 3) in a directory, one file per
chunk (or per shard), written block by block and read back by zarr itself.

A blosc codec compresses the chunks: zarr's `BloscCodec` is c-blosc 1 (numcodecs), so a
configured ``blosc2:<codec>`` is stored as ``blosc:<codec>`` with byte shuffle, level 5;
``zlib`` is stored as gzip. Chunks have the shape of the HDF5 backends' chunks.

Two settings (docs/tuning.md), the same codec and chunks in both, so both compress alike:
- ``default``: `zarr.create_array` with zarr's defaults but the codec and chunks: no
  shards (a file per chunk, unless ``hugearray.zarr.shards``), zarr's own concurrency;
- ``tuned``: as zarr's performance guide advises for this layout. Chunks are whole rows
  of at least 1 MB (the guide's floor) in both rows; the guide advises shards "if you
  have large arrays but need small chunks", so chunks below 1 MB go in one shard per
  block (each block written is whole shards: no shard is read back and rewritten),
  larger ones stay a file each: zarr-python reads a whole shard into a buffer of its own
  and copies it into the reader's array, which made the reduce 0.6x the unsharded one
  here. Every chunk holds data, so zarr's emptiness check is skipped
  (`write_empty_chunks=True`, as the guide advises for such data). Zarr's concurrency
  stays its own: lowered to the job's threads, the cold reduce ran 0.88x.
"""

from pathlib import Path
from typing import Any

import numpy as np
import zarr
from zarr.codecs import BloscCodec, GzipCodec
from zarr.core.buffer import default_buffer_prototype
from zarr.storage import LocalStore

from outofcore.hugearray.stores.backend import Backend, OpenArray
from outofcore.hugearray.stores.hdf5_chunks import CLEVEL
from outofcore.hugearray.stores.layout import StoreSpec, split_compression
from outofcore.hugearray.stores.reading import PieceReader

NDARRAYS = default_buffer_prototype()  # wraps a numpy array as zarr's output buffer (no copy)


def zarr_compression(configured: str) -> str:
    library, codec = split_compression(configured)
    if library in ("blosc", "blosc2"):
        return f"blosc:{codec}"
    return "gzip" if library == "zlib" else "none"


def zarr_compressors(stored: str) -> Any:
    library, codec = split_compression(stored)
    if library == "blosc":
        return BloscCodec(cname=codec, clevel=CLEVEL, shuffle="shuffle", typesize=8)
    return GzipCodec(level=CLEVEL) if library == "gzip" else None


# zarr's own settings, as the library ships them (set back before every job: both rows
# run with them, so one job's settings never leak into the next)
ZARR_DEFAULTS = {key: zarr.config.get(key) for key in ("threading.max_workers", "async.concurrency")}
SMALL_CHUNK_BYTES = 10**6  # zarr's guide: chunks of at least 1 MB; smaller ones go in shards


def use_threads(spec: StoreSpec) -> None:
    """zarr's own concurrency and thread pool, in both rows (docs/tuning.md: lowering them
    to the job's threads slowed the tuned cold reduce)."""
    zarr.config.set(ZARR_DEFAULTS)


def zarr_shards(spec: StoreSpec) -> tuple[int, int] | None:
    """One shard per block when configured (`hugearray.zarr.shards`), or when tuned and the
    chunks are small (below SMALL_CHUNK_BYTES); else none."""
    layout = spec.layout
    small = layout.chunk_rows * layout.columns * 8 < SMALL_CHUNK_BYTES
    if spec.zarr_shards or (spec.setting == "tuned" and small):
        return (layout.block_rows, layout.columns)
    return None


class ZarrWriter:
    """A Zarr v3 array of the final shape, filled block by block."""

    def __init__(self, path: Path, spec: StoreSpec) -> None:
        layout = spec.layout
        use_threads(spec)
        self.array = zarr.create_array(
            store=LocalStore(path),
            shape=(layout.rows, layout.columns),
            chunks=(layout.chunk_rows, layout.columns),
            shards=zarr_shards(spec),
            dtype=np.float64,
            compressors=zarr_compressors(spec.compression),
            config={"write_empty_chunks": spec.setting == "tuned"},  # tuned: every chunk holds data
        )
        self.written = 0

    def append(self, block: np.ndarray) -> None:
        self.array[self.written : self.written + len(block)] = block
        self.written += len(block)

    def close(self) -> None:
        pass  # every chunk is a file written when its block was assigned


class ZarrReader(PieceReader):
    """Blocks read by zarr, in parallel: zarr reads and decompresses a block's chunks
    itself, and one array may be read from several threads."""

    def __init__(self, path: Path, spec: StoreSpec) -> None:
        super().__init__(spec.layout, ahead_of=None)  # a file per chunk: no single file to read ahead
        use_threads(spec)
        self.array = zarr.open_array(LocalStore(path, read_only=True), mode="r", zarr_format=3)
        self.pieces = spec.layout.blocks()
        self.shape = (spec.layout.block_rows, spec.layout.columns)

    def fetch(self, span: tuple[int, int], buffer: np.ndarray) -> tuple[int, int]:
        return span  # nothing under the lock: the read happens in parallel in `finish`

    def finish(self, span: tuple[int, int], fetched: Any, buffer: np.ndarray) -> np.ndarray:
        start, stop = span
        block = buffer[: stop - start]
        # decoded straight into the worker's buffer: `array[start:stop]` would allocate a
        # new block per read, one more block per worker in the peak RSS
        self.array.get_basic_selection(slice(start, stop), out=NDARRAYS.nd_buffer.from_numpy_array(block))
        return block


def zarr_opener(path: Path, spec: StoreSpec) -> OpenArray:
    use_threads(spec)
    array = zarr.open_array(LocalStore(path, read_only=True), mode="r", zarr_format=3)
    return OpenArray(array, lock=False, close=lambda: None)


BACKEND = Backend(
    name="zarr",
    suffix=".zarr",
    directory=True,
    compresses=True,
    direct_chunks=False,
    writer=ZarrWriter,
    reader=ZarrReader,
    opener=zarr_opener,
    stored_compression=zarr_compression,
)
