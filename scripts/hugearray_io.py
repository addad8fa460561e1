"""Storage of the huge-array stage: the array's layout and, per backend, a writer that
appends blocks and a reader that yields them back, block by block or chunk by chunk.

Backends: ``tables`` (PyTables EArray), ``h5py`` (resizable chunked dataset) and
``memmap`` (a .npy file written and read through numpy.memmap windows, one block at a
time: mapping the whole file and touching it all would count every page in the
process's RSS). With a blosc2 codec and direct chunks, the HDF5 backends compress each
chunk with python-blosc2 (all threads) and write/read it with the libraries' direct
chunk calls; the file is the one the HDF5 Blosc2 filter writes (a b2nd frame per
chunk), so any reader with the filter opens it. Otherwise the HDF5 filter pipeline
does the work, one chunk at a time on one thread.
"""

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blosc2
import h5py
import hdf5plugin
import numpy as np
import tables

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
        self.padded = np.zeros(self.shape)  # the last chunk, zero-padded as HDF5 stores it

    def encode(self, chunk: np.ndarray) -> bytes:
        if chunk.shape != self.shape:
            self.padded[: len(chunk)] = chunk
            self.padded[len(chunk) :] = 0
            chunk = self.padded
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
        codec = split_compression(compression)[1]
        self.codec = ChunkCodec(layout.chunk_rows, layout.columns, codec, threads) if direct else None

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
        codec = split_compression(compression)[1]
        self.codec = ChunkCodec(layout.chunk_rows, layout.columns, codec, threads) if direct else None

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


def prefetched(
    tasks: Iterable[Any],
    fill: Callable[[Any, np.ndarray], np.ndarray],
    shape: tuple[int, int],
    depth: int = 2,
) -> Iterator[np.ndarray]:
    """`fill(task, buffer)` for every task in a background thread, yielding the results.

    The reader thread reads and decompresses the next pieces while the caller reduces
    the current one (HDF5 reads, blosc2 and numpy release the GIL), on `depth` reused
    buffers: memory stays bounded whatever the array size. Only the reader thread
    touches the file, so the HDF5 libraries are never entered from two threads.
    """
    free: queue.Queue = queue.Queue()
    ready: queue.Queue = queue.Queue()
    for _ in range(depth):
        free.put(np.empty(shape))

    def work() -> None:
        try:
            for task in tasks:
                buffer = free.get()
                if buffer is None:  # the consumer stopped early
                    return
                ready.put((buffer, fill(task, buffer)))
            ready.put(None)
        except BaseException as error:  # handed to the consumer, raised there
            ready.put(error)

    reader = threading.Thread(target=work, name="hugearray-reader", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            buffer, piece = item
            yield piece
            free.put(buffer)
    finally:
        free.put(None)
        reader.join()


def direct_chunk_reader(layout: Layout, compression: str, threads: int, stored_size, read_stored):
    """fill() for prefetched(): read a chunk's stored bytes and decompress them into the buffer."""
    codec = ChunkCodec(layout.chunk_rows, layout.columns, split_compression(compression)[1], threads)
    raw = bytearray(layout.chunk_rows * layout.columns * 8 + 4096)

    def fill(start: int, buffer: np.ndarray) -> np.ndarray:
        nonlocal raw
        size = stored_size(start)
        if size > len(raw):  # an incompressible chunk: frame overhead on top of the data
            raw = bytearray(size)
        codec.decode(memoryview(read_stored(start, raw))[:size], buffer)
        return buffer[: min(layout.chunk_rows, layout.rows - start)]

    return fill


def chunk_starts(layout: Layout) -> range:
    return range(0, layout.rows, layout.chunk_rows)


def read_tables(path: Path, layout: Layout, compression: str, threads: int, direct: bool):
    with tables.open_file(str(path), "r", max_blosc_threads=threads) as h5:
        array = getattr(h5.root, DATASET)
        if direct:
            fill = direct_chunk_reader(
                layout,
                compression,
                threads,
                lambda start: array.chunk_info((start, 0)).size,
                lambda start, raw: array.read_chunk((start, 0), out=raw),
            )
            yield from prefetched(chunk_starts(layout), fill, (layout.chunk_rows, layout.columns))
            return

        def fill_block(span: tuple[int, int], buffer: np.ndarray) -> np.ndarray:
            start, stop = span
            return array.read(start, stop, out=buffer[: stop - start])

        yield from prefetched(layout.blocks(), fill_block, (layout.block_rows, layout.columns))


def read_h5py(path: Path, layout: Layout, compression: str, threads: int, direct: bool):
    with h5py.File(path, "r") as h5:
        dataset = h5[DATASET]
        if direct:
            fill = direct_chunk_reader(
                layout,
                compression,
                threads,
                lambda start: dataset.id.get_chunk_info_by_coord((start, 0)).size,
                lambda start, raw: dataset.id.read_direct_chunk((start, 0), out=raw)[1],
            )
            yield from prefetched(chunk_starts(layout), fill, (layout.chunk_rows, layout.columns))
            return

        def fill_block(span: tuple[int, int], buffer: np.ndarray) -> np.ndarray:
            start, stop = span
            block = buffer[: stop - start]
            dataset.read_direct(block, np.s_[start:stop], np.s_[0 : stop - start])
            return block

        yield from prefetched(layout.blocks(), fill_block, (layout.block_rows, layout.columns))


def read_memmap(path: Path, layout: Layout, compression: str, threads: int, direct: bool):
    """One numpy.memmap window per block, unmapped before the next: as a user would write it."""
    header = np.load(path, mmap_mode="r")
    offset = header.offset
    del header
    for start, stop in layout.blocks():
        window = np.memmap(
            path,
            dtype=np.float64,
            mode="r",
            offset=offset + start * layout.columns * 8,
            shape=(stop - start, layout.columns),
        )
        yield window
        del window


READERS = {"tables": read_tables, "h5py": read_h5py, "memmap": read_memmap}
