"""Storage of the huge-array stage: the array's layout and, per backend, a writer that
appends blocks and a reader that hands them back, block by block or chunk by chunk, to
parallel workers (`read_in_parallel`).

Backends: ``tables`` (PyTables EArray), ``h5py`` (resizable chunked dataset) and
``memmap`` (a .npy file written and read through numpy.memmap windows, one block at a
time: mapping the whole file and touching it all would count every page in the
process's RSS). With a blosc2 codec and direct chunks, the HDF5 backends compress each
chunk with python-blosc2 (all threads) and write/read it with the libraries' direct
chunk calls; the file is the one the HDF5 Blosc2 filter writes (a b2nd frame per
chunk), so any reader with the filter opens it. Otherwise the HDF5 filter pipeline
does the work, one chunk at a time on one thread.
"""

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blosc2
import h5py
import hdf5plugin
import numpy as np
import tables

from outofcore.hdf5_safety import refuse_pickles

MiB = 2**20
CLEVEL = 5  # compression level of every codec
DATASET = "array"  # node name in the HDF5 files
B2ND_BLOCK_BYTES = 256 * 1024  # a blosc2 block inside a chunk: fits the L2 cache


# --- layout -----------------------------------------------------------------------------


def power_of_two_at_most(value: int) -> int:
    return 1 << (max(1, value).bit_length() - 1)


@dataclass(frozen=True)
class Layout:
    """Rows and columns of the array, and the rows of a block and of an HDF5 chunk.

    Chunk rows are a power of two (so a blosc2 block divides a chunk) and a block is a
    whole number of chunks (so every block but the last writes whole chunks).
    """

    rows: int
    columns: int
    block_rows: int
    chunk_rows: int

    @classmethod
    def from_sizes(cls, size_mb: int, columns: int, block_mb: int, chunk_kb: int) -> "Layout":
        row_bytes = 8 * columns
        chunk_rows = power_of_two_at_most(chunk_kb * 1024 // row_bytes)
        block_rows = max(1, block_mb * MiB // row_bytes // chunk_rows) * chunk_rows
        return cls(size_mb * MiB // row_bytes, columns, block_rows, chunk_rows)

    @property
    def nbytes(self) -> int:
        return self.rows * self.columns * 8

    def blocks(self) -> Iterator[tuple[int, int]]:
        """(start, stop) rows of every block, in order."""
        for start in range(0, self.rows, self.block_rows):
            yield start, min(start + self.block_rows, self.rows)


# --- compression -------------------------------------------------------------------------


def split_compression(compression: str) -> tuple[str, str | None]:
    """'blosc2:lz4' -> ('blosc2', 'lz4'); 'zlib' -> ('zlib', None); 'none' -> ('none', None)."""
    library, _, codec = compression.partition(":")
    return library, codec or None


def effective_compression(backend: str, compression: str) -> str:
    """What the backend really applies: a numpy memmap stores raw bytes."""
    return "none" if backend == "memmap" else compression


def uses_direct_chunks(backend: str, compression: str, direct_chunks: bool) -> bool:
    return direct_chunks and backend in ("tables", "h5py") and compression.startswith("blosc2:")


def tables_filters(compression: str) -> tables.Filters | None:
    if compression == "none":
        return None
    return tables.Filters(complevel=CLEVEL, complib=compression, shuffle=True)


def h5py_filters(compression: str) -> dict[str, Any]:
    library, codec = split_compression(compression)
    if library == "zlib":
        return {"compression": "gzip", "compression_opts": CLEVEL, "shuffle": True}
    if library == "blosc":
        return dict(hdf5plugin.Blosc(cname=codec, clevel=CLEVEL, shuffle=hdf5plugin.Blosc.SHUFFLE))
    if library == "blosc2":
        return dict(hdf5plugin.Blosc2(cname=codec, clevel=CLEVEL, filters=hdf5plugin.Blosc2.SHUFFLE))
    return {}


class ChunkCodec:
    """One HDF5 chunk <-> the bytes the HDF5 Blosc2 filter stores for it.

    The filter stores a chunk as a blosc2 frame holding a b2nd array of the chunk's
    shape. Here python-blosc2 builds that frame itself (`threads` threads), with blosc2
    blocks spanning whole rows: the chunk's bytes in block order are then its bytes in
    row order, and decompressing needs no reordering.
    """

    def __init__(self, chunk_rows: int, columns: int, codec: str, threads: int) -> None:
        self.shape = (chunk_rows, columns)
        self.blocks = (min(chunk_rows, power_of_two_at_most(B2ND_BLOCK_BYTES // (8 * columns))), columns)
        self.cparams = blosc2.CParams(
            codec=blosc2.Codec[codec.upper()],
            clevel=CLEVEL,
            filters=[blosc2.Filter.SHUFFLE],
            typesize=8,
            nthreads=threads,
        )

    def encode(self, chunk: np.ndarray) -> bytes:
        if chunk.shape != self.shape:  # the last chunk, zero-padded as HDF5 stores it
            padded = np.zeros(self.shape)
            padded[: len(chunk)] = chunk
            chunk = padded
        array = blosc2.asarray(
            chunk, chunks=self.shape, blocks=self.blocks, cparams=self.cparams, contiguous=True
        )
        return array.to_cframe()

    def decode(self, stored: Any, out: np.ndarray) -> None:
        """Decompress a stored chunk into `out` (shape of a chunk)."""
        array = blosc2.ndarray_from_cframe(stored)
        one_chunk = array.shape == out.shape and tuple(array.chunks) == out.shape
        if one_chunk and tuple(array.blocks[1:]) == out.shape[1:]:
            array.schunk.decompress_chunk(0, out)  # blocks are whole rows: row order
        else:  # a chunk written by another tool: let b2nd reorder it
            out[...] = array[...]


def chunk_codec(layout: Layout, compression: str, threads: int, direct: bool) -> ChunkCodec | None:
    """The codec of direct chunk writes (None: the HDF5 filter pipeline compresses)."""
    return (
        ChunkCodec(layout.chunk_rows, layout.columns, split_compression(compression)[1], threads)
        if direct
        else None
    )


# --- backends: writers ----------------------------------------------------------------------


class TablesWriter:
    """PyTables EArray, appended block by block (the classic recipe)."""

    def __init__(self, path: Path, layout: Layout, compression: str, threads: int, direct: bool) -> None:
        self.layout = layout
        self.file = tables.open_file(str(path), "w", max_blosc_threads=threads)
        self.array = self.file.create_earray(
            "/",
            DATASET,
            tables.Float64Atom(),
            shape=(0, layout.columns),
            filters=tables_filters(compression),
            chunkshape=(layout.chunk_rows, layout.columns),
            expectedrows=layout.rows,
        )
        self.codec = chunk_codec(layout, compression, threads, direct)

    def append(self, block: np.ndarray) -> None:
        if self.codec is None:
            self.array.append(block)
            return
        start = self.array.nrows
        self.array.truncate(start + len(block))  # grows the array without writing data
        for offset in range(0, len(block), self.layout.chunk_rows):
            chunk = block[offset : offset + self.layout.chunk_rows]
            self.array.write_chunk((start + offset, 0), self.codec.encode(chunk))

    def close(self) -> None:
        self.file.close()


class H5pyWriter:
    """h5py resizable chunked dataset, grown block by block."""

    def __init__(self, path: Path, layout: Layout, compression: str, threads: int, direct: bool) -> None:
        self.layout = layout
        self.file = h5py.File(path, "w")
        self.dataset = self.file.create_dataset(
            DATASET,
            shape=(0, layout.columns),
            maxshape=(None, layout.columns),
            dtype=np.float64,
            chunks=(layout.chunk_rows, layout.columns),
            **h5py_filters(compression),
        )
        self.codec = chunk_codec(layout, compression, threads, direct)

    def append(self, block: np.ndarray) -> None:
        start = self.dataset.shape[0]
        self.dataset.resize(start + len(block), axis=0)
        if self.codec is None:
            self.dataset[start : start + len(block)] = block
            return
        for offset in range(0, len(block), self.layout.chunk_rows):
            chunk = block[offset : offset + self.layout.chunk_rows]
            self.dataset.id.write_direct_chunk((start + offset, 0), self.codec.encode(chunk))

    def close(self) -> None:
        self.file.close()


class MemmapWriter:
    """A .npy file of the final shape, filled through one numpy.memmap window per block."""

    def __init__(self, path: Path, layout: Layout, compression: str, threads: int, direct: bool) -> None:
        self.path, self.layout, self.written = path, layout, 0
        whole = np.lib.format.open_memmap(
            path, mode="w+", dtype=np.float64, shape=(layout.rows, layout.columns)
        )
        self.offset = whole.offset  # bytes of the .npy header
        del whole  # unmapped: the file exists (sparse), no page was touched

    def append(self, block: np.ndarray) -> None:
        window = np.memmap(
            self.path,
            dtype=np.float64,
            mode="r+",
            offset=self.offset + self.written * self.layout.columns * 8,
            shape=block.shape,
        )
        window[...] = block
        del window  # unmapped: the dirty pages stay in the page cache, not in our RSS
        self.written += len(block)

    def close(self) -> None:
        pass


WRITERS = {"tables": TablesWriter, "h5py": H5pyWriter, "memmap": MemmapWriter}


# --- backends: readers ----------------------------------------------------------------------


class Readahead:
    """Asks the kernel to read the file ahead of the readers (posix_fadvise WILLNEED).

    The file was written in row order, so reading row r is near byte size * r / rows.
    Keeping `window` bytes beyond that requested lets the disk work while the CPU
    decompresses and reduces: on a file just written (cached nowhere) it doubled the
    cold read rate here. Pages land in the page cache, not in the process's memory.
    A no-op where posix_fadvise does not exist.
    """

    def __init__(self, path: Path, rows: int, window: int) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.size, self.rows, self.window, self.requested = os.fstat(self.fd).st_size, rows, window, 0

    def before(self, row: int) -> None:
        """A reader is about to read `row`."""
        if not hasattr(os, "posix_fadvise"):
            return
        wanted = min(self.size, self.size * row // max(1, self.rows) + self.window)
        while self.requested < wanted:
            os.posix_fadvise(self.fd, self.requested, self.window, os.POSIX_FADV_WILLNEED)
            self.requested += self.window

    def close(self) -> None:
        os.close(self.fd)


class PieceReader:
    """Reads a file piece by piece (chunks or blocks) for `read_in_parallel`.

    `fetch(piece, buffer)` runs under a lock, one at a time and in order: the only
    place the file is touched, so the HDF5 libraries are never entered from two threads
    and the disk sees sequential reads. `finish(piece, fetched, buffer)` runs outside
    the lock, in parallel (decompression), and returns the piece's rows as an array.
    """

    pieces: Iterable[Any]
    shape: tuple[int, int]  # of the buffer each worker reuses

    def __init__(self, path: Path, layout: Layout) -> None:
        self.layout = layout
        self.ahead = Readahead(path, layout.rows, max(8 * MiB, layout.block_rows * layout.columns * 8))
        self.closers: list[Callable[[], None]] = [self.ahead.close]

    def fetch(self, piece: Any, buffer: np.ndarray) -> Any:
        raise NotImplementedError

    def finish(self, piece: Any, fetched: Any, buffer: np.ndarray) -> np.ndarray:
        return fetched

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


class DirectChunkReader(PieceReader):
    """Stored chunks read raw (PyTables read_chunk, h5py read_direct_chunk) and
    decompressed by python-blosc2, each worker into its own chunk buffer."""

    def __init__(self, path: Path, layout: Layout, compression: str, stored_size, read_stored) -> None:
        super().__init__(path, layout)
        self.pieces = range(0, layout.rows, layout.chunk_rows)
        self.shape = (layout.chunk_rows, layout.columns)
        # one thread per chunk: the parallelism comes from the readers' workers
        self.codec = ChunkCodec(layout.chunk_rows, layout.columns, split_compression(compression)[1], 1)
        self.stored_size, self.read_stored = stored_size, read_stored
        self.raw = threading.local()  # each worker's buffer of stored bytes

    def fetch(self, start: int, buffer: np.ndarray) -> Any:
        self.ahead.before(start)
        size = self.stored_size(start)
        raw = getattr(self.raw, "buffer", None)
        if raw is None or size > len(raw):  # at most a chunk plus frame overhead
            raw = self.raw.buffer = bytearray(max(size, buffer.nbytes + 4096))
        return memoryview(self.read_stored(start, raw))[:size]

    def finish(self, start: int, stored: Any, buffer: np.ndarray) -> np.ndarray:
        self.codec.decode(stored, buffer)
        return buffer[: min(self.layout.chunk_rows, self.layout.rows - start)]


def tables_reader(path: Path, layout: Layout, compression: str, threads: int, direct: bool) -> PieceReader:
    """PyTables EArray: direct chunks, or blocks through the HDF5 filter pipeline."""
    refuse_pickles(path)  # PyTables would unpickle attributes on opening the array
    h5 = tables.open_file(str(path), "r", max_blosc_threads=threads)
    array = getattr(h5.root, DATASET)
    if direct:
        reader: PieceReader = DirectChunkReader(
            path,
            layout,
            compression,
            lambda start: array.chunk_info((start, 0)).size,
            lambda start, raw: array.read_chunk((start, 0), out=raw),
        )
    else:
        reader = BlockReader(path, layout, lambda start, stop, out: array.read(start, stop, out=out))
    reader.closers.append(h5.close)
    return reader


def h5py_reader(path: Path, layout: Layout, compression: str, threads: int, direct: bool) -> PieceReader:
    """h5py dataset: direct chunks, or blocks through the HDF5 filter pipeline."""
    h5 = h5py.File(path, "r")
    dataset = h5[DATASET]
    if direct:
        reader: PieceReader = DirectChunkReader(
            path,
            layout,
            compression,
            lambda start: dataset.id.get_chunk_info_by_coord((start, 0)).size,
            lambda start, raw: dataset.id.read_direct_chunk((start, 0), out=raw)[1],
        )
    else:
        reader = BlockReader(
            path,
            layout,
            lambda start, stop, out: dataset.read_direct(out, np.s_[start:stop], np.s_[0 : stop - start]),
        )
    reader.closers.append(h5.close)
    return reader


class BlockReader(PieceReader):
    """Blocks read (and decompressed) by the HDF5 library into each worker's buffer."""

    def __init__(self, path: Path, layout: Layout, read_rows: Callable[[int, int, np.ndarray], Any]) -> None:
        super().__init__(path, layout)
        self.pieces = layout.blocks()
        self.shape = (layout.block_rows, layout.columns)
        self.read_rows = read_rows

    def fetch(self, span: tuple[int, int], buffer: np.ndarray) -> np.ndarray:
        start, stop = span
        self.ahead.before(start)
        block = buffer[: stop - start]
        self.read_rows(start, stop, block)
        return block


class MemmapReader(PieceReader):
    """One numpy.memmap window per block, mapped by the worker that reduces it and
    unmapped when it moves on: a window of pages, never the whole file, in RSS."""

    def __init__(self, path: Path, layout: Layout, compression: str, threads: int, direct: bool) -> None:
        super().__init__(path, layout)
        header = np.load(path, mmap_mode="r")
        self.path, self.offset = path, header.offset
        del header
        self.pieces = layout.blocks()
        self.shape = (0, layout.columns)  # no buffer: the window is the data

    def fetch(self, span: tuple[int, int], buffer: np.ndarray) -> None:
        self.ahead.before(span[0])

    def finish(self, span: tuple[int, int], fetched: Any, buffer: np.ndarray) -> np.ndarray:
        start, stop = span
        return np.memmap(
            self.path,
            dtype=np.float64,
            mode="r",
            offset=self.offset + start * self.layout.columns * 8,
            shape=(stop - start, self.layout.columns),
        )


READERS = {"tables": tables_reader, "h5py": h5py_reader, "memmap": MemmapReader}


def read_in_parallel(reader: PieceReader, sinks: Sequence[Callable[[np.ndarray], None]]) -> None:
    """Every piece of the file handed to one of `sinks`, one worker thread per sink.

    Workers take the pieces in order, fetch them under one lock and finish (decompress)
    and consume them in parallel: blosc2, numpy and the HDF5 reads release the GIL. Each
    worker reuses one buffer, so memory is a few pieces whatever the file's size. A
    failure stops the other workers and is raised here.
    """
    lock = threading.Lock()
    pieces = iter(reader.pieces)
    failures: list[BaseException] = []

    def work(sink: Callable[[np.ndarray], None]) -> None:
        buffer = np.empty(reader.shape)
        try:
            while not failures:
                with lock:
                    piece = next(pieces, None)
                    if piece is None:
                        return
                    fetched = reader.fetch(piece, buffer)
                sink(reader.finish(piece, fetched, buffer))
        except BaseException as error:  # handed to the caller
            failures.append(error)

    workers = [threading.Thread(target=work, args=(sink,), name="hugearray-reduce") for sink in sinks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise failures[0]
