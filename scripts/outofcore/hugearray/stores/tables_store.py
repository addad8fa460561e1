"""Backend ``tables``: a PyTables EArray in an HDF5 file, appended block by block (the
classic recipe), read back by direct chunks or through the HDF5 filter pipeline.
``tables_filter`` is the same EArray always through the filter pipeline (the tutorial's
way), so both can be measured in one run, at two settings (docs/tuning.md): ``default``
as a user types it (`tables.Filters(complevel=5, complib=...)`, PyTables' own chunk
shape, blosc threads and reads by slicing) and ``tuned`` as PyTables' optimization
guide advises (`expectedrows`, the configured chunk shape, `max_blosc_threads`, reads
into a reused buffer)."""

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import tables

from outofcore.hugearray.stores.backend import Backend, OpenArray
from outofcore.hugearray.stores.chunk_pipeline import chunk_pipeline
from outofcore.hugearray.stores.hdf5_chunks import CLEVEL, DATASET, DirectChunkReader, written_shape
from outofcore.hugearray.stores.layout import StoreSpec
from outofcore.hugearray.stores.reading import BlockReader, PieceReader
from outofcore.safety.hdf5 import refuse_unsafe


def tables_filters(compression: str) -> tables.Filters | None:
    if compression == "none":
        return None
    return tables.Filters(complevel=CLEVEL, complib=compression, shuffle=True)


class TablesWriter:
    """PyTables EArray, appended block by block."""

    def __init__(self, path: Path, spec: StoreSpec) -> None:
        self.layout = layout = spec.layout
        self.file = open_tables(path, "w", spec)
        shapes = {"chunkshape": (layout.chunk_rows, layout.columns), "expectedrows": layout.rows}
        if spec.setting == "default":  # as a user types it: PyTables' own chunk shape
            shapes = {}
        self.array = self.file.create_earray(
            "/", DATASET, tables.Float64Atom(), shape=(0, layout.columns),
            filters=tables_filters(spec.compression), **shapes,
        )  # fmt: skip
        # direct chunks: compressed on worker threads, written in order (None: the filter)
        self.chunks = chunk_pipeline(spec, lambda row, stored: self.array.write_chunk((row, 0), stored))

    def append(self, block: np.ndarray) -> None:
        if self.chunks is None:
            self.array.append(block)
            return
        start = self.array.nrows
        self.array.truncate(start + len(block))  # grows the array without writing data
        self.chunks.write_block(start, block)

    def close(self) -> None:
        if self.chunks is not None:
            self.chunks.close()
        self.file.close()


def open_tables(path: Path, mode: str, spec: StoreSpec) -> tables.File:
    """Default: PyTables' own number of blosc threads (`MAX_BLOSC_THREADS`); else the job's."""
    if spec.setting == "default":
        return tables.open_file(str(path), mode)
    return tables.open_file(str(path), mode, max_blosc_threads=spec.threads)


def sliced(array: Any) -> Callable[[int, int, np.ndarray], None]:
    """Reads rows as a user does, `array[start:stop]` (a new array each time)."""

    def read(start: int, stop: int, out: np.ndarray) -> None:
        out[...] = array[start:stop]

    return read


def tables_reader(path: Path, spec: StoreSpec) -> PieceReader:
    """PyTables EArray: direct chunks, or blocks through the HDF5 filter pipeline."""
    refuse_unsafe(path, expected=written_shape(spec))  # PyTables would unpickle attributes on opening
    h5 = open_tables(path, "r", spec)
    array = getattr(h5.root, DATASET)
    if spec.setting == "default":  # a user's slices, each a new array
        reader: PieceReader = BlockReader(spec.layout, path, sliced(array))
    elif spec.direct:
        reader = DirectChunkReader(
            path,
            spec.layout,
            spec.compression,
            lambda start: array.chunk_info((start, 0)).size,
            lambda start, raw: array.read_chunk((start, 0), out=raw),
        )
    else:
        reader = BlockReader(spec.layout, path, lambda start, stop, out: array.read(start, stop, out=out))
    reader.closers.append(h5.close)
    return reader


def tables_opener(path: Path, spec: StoreSpec) -> OpenArray:
    """The EArray as PyTables opens it (the HDF5 filter pipeline decompresses)."""
    refuse_unsafe(path, expected=written_shape(spec))
    h5 = open_tables(path, "r", spec)
    return OpenArray(getattr(h5.root, DATASET), lock=True, close=h5.close)


BACKEND = Backend(
    name="tables",
    suffix=".h5",
    directory=False,
    compresses=True,
    direct_chunks=True,
    writer=TablesWriter,
    reader=tables_reader,
    opener=tables_opener,
)

# The tutorial's pointer as written: a plain EArray through the HDF5 filter pipeline
# (what `direct_chunks: false` does to `tables`), measurable beside it in one run.
FILTER_BACKEND = replace(BACKEND, name="tables_filter", direct_chunks=False)
