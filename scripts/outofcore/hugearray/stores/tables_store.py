"""Backend ``tables``: a PyTables EArray in an HDF5 file, appended block by block (the
classic recipe), read back by direct chunks or through the HDF5 filter pipeline.
``tables_filter`` is the same EArray always through the filter pipeline (the tutorial's
way), so both can be measured in one run."""

from pathlib import Path

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
        self.file = tables.open_file(str(path), "w", max_blosc_threads=spec.threads)
        self.array = self.file.create_earray(
            "/",
            DATASET,
            tables.Float64Atom(),
            shape=(0, layout.columns),
            filters=tables_filters(spec.compression),
            chunkshape=(layout.chunk_rows, layout.columns),
            expectedrows=layout.rows,
        )
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


def tables_reader(path: Path, spec: StoreSpec) -> PieceReader:
    """PyTables EArray: direct chunks, or blocks through the HDF5 filter pipeline."""
    refuse_unsafe(path, expected=written_shape(spec))  # PyTables would unpickle attributes on opening
    h5 = tables.open_file(str(path), "r", max_blosc_threads=spec.threads)
    array = getattr(h5.root, DATASET)
    if spec.direct:
        reader: PieceReader = DirectChunkReader(
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
    h5 = tables.open_file(str(path), "r", max_blosc_threads=spec.threads)
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
FILTER_BACKEND = Backend(
    name="tables_filter",
    suffix=".h5",
    directory=False,
    compresses=True,
    direct_chunks=False,
    writer=TablesWriter,
    reader=tables_reader,
    opener=tables_opener,
)
