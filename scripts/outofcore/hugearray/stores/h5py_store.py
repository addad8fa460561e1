"""Backend ``h5py``: a resizable chunked h5py dataset in an HDF5 file, grown block by
block, read back by direct chunks or through the HDF5 filter pipeline (the filters of
``hdf5plugin``).

``h5py_filter`` is the same dataset as a user writes it, always through the filter
pipeline (`create_dataset(..., chunks=..., **hdf5plugin.Blosc2(cname=...))`), at two
settings (docs/tuning.md): ``default`` (one blosc thread, HDF5's chunk cache, reads by
slicing) and ``tuned`` (blosc2's threads through `BLOSC_NTHREADS`, a chunk cache that
holds a chunk per thread, reads into a reused buffer with `read_direct`)."""

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import h5py
import hdf5plugin
import numpy as np

from outofcore.hugearray.stores.backend import Backend, OpenArray
from outofcore.hugearray.stores.chunk_pipeline import chunk_pipeline
from outofcore.hugearray.stores.hdf5_chunks import CLEVEL, DATASET, DirectChunkReader, written_shape
from outofcore.hugearray.stores.layout import StoreSpec, split_compression
from outofcore.hugearray.stores.reading import BlockReader, PieceReader
from outofcore.hugearray.stores.tables_store import sliced
from outofcore.safety.hdf5 import refuse_foreign_layout


def h5py_filters(compression: str) -> dict[str, Any]:
    library, codec = split_compression(compression)
    if library == "zlib":
        return {"compression": "gzip", "compression_opts": CLEVEL, "shuffle": True}
    if library == "blosc":
        return dict(hdf5plugin.Blosc(cname=codec, clevel=CLEVEL, shuffle=hdf5plugin.Blosc.SHUFFLE))
    if library == "blosc2":
        return dict(hdf5plugin.Blosc2(cname=codec, clevel=CLEVEL, filters=hdf5plugin.Blosc2.SHUFFLE))
    return {}


def open_h5py(path: Path, mode: str, spec: StoreSpec) -> h5py.File:
    """Default: as h5py opens a file. Tuned: c-blosc2 (the filter's too) reads its threads
    from BLOSC_NTHREADS, and a chunk cache holding a chunk per thread."""
    if spec.setting != "tuned":
        return h5py.File(path, mode)
    os.environ["BLOSC_NTHREADS"] = str(spec.threads)
    chunk_bytes = spec.layout.chunk_rows * spec.layout.columns * 8
    return h5py.File(path, mode, rdcc_nbytes=2 * spec.threads * chunk_bytes, rdcc_nslots=100_003)


class H5pyWriter:
    """h5py resizable chunked dataset, grown block by block."""

    def __init__(self, path: Path, spec: StoreSpec) -> None:
        self.layout = layout = spec.layout
        self.file = open_h5py(path, "w", spec)
        self.dataset = self.file.create_dataset(
            DATASET,
            shape=(0, layout.columns),
            maxshape=(None, layout.columns),
            dtype=np.float64,
            chunks=(layout.chunk_rows, layout.columns),
            **h5py_filters(spec.compression),
        )
        # direct chunks: compressed on worker threads, written in order (None: the filter)
        self.chunks = chunk_pipeline(spec, self.write_chunk)

    def append(self, block: np.ndarray) -> None:
        start = self.dataset.shape[0]
        self.dataset.resize(start + len(block), axis=0)
        if self.chunks is None:
            self.dataset[start : start + len(block)] = block
            return
        self.chunks.write_block(start, block)

    def write_chunk(self, row: int, stored: bytes) -> None:
        self.dataset.id.write_direct_chunk((row, 0), stored)

    def close(self) -> None:
        if self.chunks is not None:
            self.chunks.close()
        self.file.close()


def h5py_reader(path: Path, spec: StoreSpec) -> PieceReader:
    """h5py dataset: direct chunks, or blocks through the HDF5 filter pipeline."""
    refuse_foreign_layout(path, complete=True, expected=written_shape(spec))  # all here, every chunk
    h5 = open_h5py(path, "r", spec)
    dataset = h5[DATASET]
    if spec.setting == "default":  # a user's slices, each a new array
        reader: PieceReader = BlockReader(spec.layout, path, sliced(dataset))
    elif spec.direct:
        reader = DirectChunkReader(
            path,
            spec.layout,
            spec.compression,
            lambda start: dataset.id.get_chunk_info_by_coord((start, 0)).size,
            lambda start, raw: dataset.id.read_direct_chunk((start, 0), out=raw)[1],
        )
    else:
        reader = BlockReader(
            spec.layout,
            path,
            lambda start, stop, out: dataset.read_direct(out, np.s_[start:stop], np.s_[0 : stop - start]),
        )
    reader.closers.append(h5.close)
    return reader


def h5py_opener(path: Path, spec: StoreSpec) -> OpenArray:
    """The dataset as h5py opens it (the HDF5 filter pipeline decompresses)."""
    refuse_foreign_layout(path, complete=True, expected=written_shape(spec))
    h5 = open_h5py(path, "r", spec)
    return OpenArray(h5[DATASET], lock=True, close=h5.close)


BACKEND = Backend(
    name="h5py",
    suffix=".h5",
    directory=False,
    compresses=True,
    direct_chunks=True,
    writer=H5pyWriter,
    reader=h5py_reader,
    opener=h5py_opener,
)

# The dataset as a user writes and reads it: through the HDF5 filter pipeline.
FILTER_BACKEND = replace(BACKEND, name="h5py_filter", direct_chunks=False)
