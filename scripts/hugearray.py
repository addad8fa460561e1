"""An on-disk array larger than memory: built block by block, reduced out of core.

The classic recipe "building a huge numpy array using PyTables", made measurable. For
one size and one backend the job:

1. generates the array block by block from the config's seed (never the whole array
   in memory) and appends each block to the on-disk container, timing only the
   container's work (appends, close and fsync: the data is on disk when the clock stops);
2. evicts the file from the page cache (``cold_read``), so the reduce reads the disk;
3. computes per-column sum, mean, min and max block by block from the file;
4. checks them against the same statistics computed exactly from the generated
   integers before they were written (integer arithmetic on the source, not floats
   read back): ``check`` is ``ok`` only if every value matches exactly.

The data: integers uniform in [0, 2**16) (16-bit samples, as an ADC gives) stored as
float64. They compress somewhat but not trivially (blosc2 lz4 + shuffle: ratio about
2.9): the sign/exponent bytes are nearly constant and the low mantissa bytes are zero,
but 16 random bits per value stay incompressible. And every partial sum of integers
below 2**53 is exact in float64 whatever the order, so the check needs no tolerance.

Backends: ``tables`` (PyTables EArray), ``h5py`` (resizable chunked dataset) and
``memmap`` (a .npy file written and read through numpy.memmap windows, one block at a
time: mapping the whole file would count every touched page in the process's RSS).
With a blosc2 codec and ``direct_chunks``, the HDF5 backends compress each chunk with
python-blosc2 (all threads) and write/read it with the libraries' direct chunk calls;
the file is the same as the HDF5 Blosc2 filter writes (a b2nd frame per chunk), so any
reader with the filter opens it. Otherwise the HDF5 filter pipeline does the work,
one chunk at a time on one thread.

No ``tables.Expr`` is used: re-evaluated after ``set_inputs_range`` it silently
returned an empty result in a peer run. Results are checked, not only timed.
"""

import os
import queue
import resource
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import blosc2
import h5py
import hdf5plugin
import numpy as np
import pandas as pd
import tables

from io_utils import atomic_output, log_to
from seeding import rng_for

MiB = 2**20
GB = 1e9  # throughputs are in GB/s of uncompressed array bytes (10**9 bytes)
VALUE_BITS = 16  # values are integers in [0, 2**16)
CLEVEL = 5  # compression level of every codec
DATASET = "array"  # node name in the HDF5 files
B2ND_BLOCK_BYTES = 256 * 1024  # a blosc2 block inside a chunk: fits the L2 cache
COLUMNS = [
    "backend",
    "size_mb",
    "rows",
    "columns",
    "compression",
    "file_bytes",
    "write_seconds",
    "write_gbps",
    "reduce_seconds",
    "reduce_gbps",
    "peak_rss_mb",
    "check",
]


class NotEnoughDiskSpace(OSError):
    """The file system cannot hold the array; raised before anything is written."""


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


# --- data and statistics -------------------------------------------------------------------


def generate_blocks(seed: int, layout: Layout) -> Iterator[np.ndarray]:
    """The array's blocks as uint16 arrays, drawn one at a time from the seeded stream."""
    rng = rng_for(seed, "hugearray")
    for start, stop in layout.blocks():
        yield rng.integers(0, 2**VALUE_BITS, size=(stop - start, layout.columns), dtype=np.uint16)


def column_reduce(ufunc: np.ufunc, block: np.ndarray, dtype: Any = None) -> np.ndarray:
    """`ufunc` reduced over the rows of a (rows, columns) block, one value per column.

    `ufunc.reduce(block, axis=0)` on a C-ordered block with few columns runs an inner
    loop of `columns` elements per row, which is slow. Viewing `fold` rows as one wide
    row gives long contiguous inner loops; folding the partial results gives the same
    per-column values (exactly, for min/max and for sums of integers).
    """
    rows, columns = block.shape
    fold = power_of_two_at_most(max(1, 64 // columns))
    if fold > 1 and rows % fold == 0 and block.flags.c_contiguous:
        wide = ufunc.reduce(block.reshape(rows // fold, fold * columns), axis=0, dtype=dtype)
        return ufunc.reduce(wide.reshape(fold, columns), axis=0)
    return ufunc.reduce(block, axis=0, dtype=dtype)


@dataclass
class ColumnStats:
    """Running per-column sum, min and max over blocks, and the rows seen."""

    columns: int
    dtype: Any = np.float64
    rows: int = 0
    total: np.ndarray = field(init=False)
    low: np.ndarray = field(init=False)
    high: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.total = np.zeros(self.columns, dtype=self.dtype)
        info = np.finfo(self.dtype) if np.dtype(self.dtype).kind == "f" else np.iinfo(self.dtype)
        self.low = np.full(self.columns, info.max, dtype=self.dtype)
        self.high = np.full(self.columns, info.min, dtype=self.dtype)

    @property
    def mean(self) -> np.ndarray:
        return self.total / self.rows

    def add_block(self, block: np.ndarray) -> None:
        """Fold in a float64 block read from the container (the out-of-core path)."""
        self.rows += len(block)
        self.total += column_reduce(np.add, block)
        np.minimum(self.low, column_reduce(np.minimum, block), out=self.low)
        np.maximum(self.high, column_reduce(np.maximum, block), out=self.high)

    def add_source(self, source: np.ndarray) -> None:
        """Fold in a generated uint16 block, in exact integer arithmetic (the reference)."""
        self.rows += len(source)
        self.total += column_reduce(np.add, source, dtype=np.int64)
        np.minimum(self.low, column_reduce(np.minimum, source), out=self.low)
        np.maximum(self.high, column_reduce(np.maximum, source), out=self.high)

    def matches(self, exact: "ColumnStats") -> bool:
        """True if these float statistics equal the exact integer ones, value for value."""
        return (
            self.rows == exact.rows
            and np.array_equal(self.total, exact.total.astype(np.float64))
            and np.array_equal(self.mean, exact.mean)
            and np.array_equal(self.low, exact.low.astype(np.float64))
            and np.array_equal(self.high, exact.high.astype(np.float64))
        )

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"sum": self.total, "mean": self.mean, "min": self.low, "max": self.high},
            index=pd.RangeIndex(self.columns, name="column"),
        )


def exact_stats(seed: int, layout: Layout) -> ColumnStats:
    """The reference statistics of the whole array, from its generated integers."""
    stats = ColumnStats(layout.columns, dtype=np.int64)
    for source in generate_blocks(seed, layout):
        stats.add_source(source)
    return stats


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


# --- the job ------------------------------------------------------------------------------


def needed_bytes(layout: Layout) -> int:
    """Disk the array may take: uncompressed size (data may not compress), plus headroom."""
    return int(layout.nbytes * 1.01) + 16 * MiB


def ensure_free_space(path: Path, layout: Layout) -> None:
    """Raise NotEnoughDiskSpace, before any file exists, if the array cannot fit."""
    folder = Path(path).resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    need = needed_bytes(layout)
    if need > free:
        raise NotEnoughDiskSpace(
            f"not enough free disk space for {path}: the array needs up to {need / MiB:,.0f} MiB "
            f"({layout.nbytes / MiB:,.0f} MiB of data), {free / MiB:,.0f} MiB free in {folder}"
        )


def sync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def evict_from_page_cache(path: Path) -> None:
    """Drop the (clean, synced) file's pages from the page cache: the next read hits the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MiB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MiB if sys.platform == "darwin" else peak / 1024


@dataclass
class Measurement:
    backend: str
    size_mb: int
    rows: int
    columns: int
    compression: str
    file_bytes: int
    write_seconds: float
    write_gbps: float
    reduce_seconds: float
    reduce_gbps: float
    peak_rss_mb: float
    check: str


@dataclass
class Options:
    """How a job runs, beside what it builds."""

    threads: int = 1
    direct_chunks: bool = True
    cold_read: bool = True


def write_array(path: Path, backend: str, layout: Layout, compression: str, seed: int, options: Options):
    """Generate and write the array; returns (write seconds, exact statistics of the source).

    The clock runs only while the container works: creating it, appending, closing and
    the fsync that puts the data on disk; drawing the numbers is not counted.
    """
    direct = uses_direct_chunks(backend, compression, options.direct_chunks)
    exact = ColumnStats(layout.columns, dtype=np.int64)
    buffer = np.empty((layout.block_rows, layout.columns))  # reused: no new pages per block
    seconds = 0.0
    with atomic_output(path) as tmp:
        started = time.perf_counter()
        writer = WRITERS[backend](tmp, layout, compression, options.threads, direct)
        seconds += time.perf_counter() - started
        try:
            for source in generate_blocks(seed, layout):
                block = buffer[: len(source)]
                np.copyto(block, source)
                exact.add_source(source)
                started = time.perf_counter()
                writer.append(block)
                seconds += time.perf_counter() - started
        finally:
            started = time.perf_counter()
            writer.close()
            seconds += time.perf_counter() - started
        started = time.perf_counter()
        sync_file(tmp)
        seconds += time.perf_counter() - started
    return seconds, exact


def reduce_array(path: Path, backend: str, layout: Layout, compression: str, options: Options):
    """Per-column statistics read block by block from the file; returns (seconds, stats)."""
    direct = uses_direct_chunks(backend, compression, options.direct_chunks)
    stats = ColumnStats(layout.columns)
    started = time.perf_counter()
    for block in READERS[backend](path, layout, compression, options.threads, direct):
        stats.add_block(block)
    return time.perf_counter() - started, stats


def run(
    path: str | Path,
    backend: str,
    size_mb: int,
    columns: int,
    block_mb: int,
    chunk_kb: int,
    compression: str,
    seed: int,
    options: Options,
    log: Any = None,
) -> tuple[Measurement, ColumnStats, ColumnStats]:
    """One job: write, (evict), reduce, check. Returns the measurement and both statistics."""
    path = Path(path)
    layout = Layout.from_sizes(size_mb, columns, block_mb, chunk_kb)
    compression = effective_compression(backend, compression)
    ensure_free_space(path, layout)
    blosc2.set_nthreads(options.threads)
    if log:
        log.info("layout %s, %d MiB, %s, options %s", layout, layout.nbytes // MiB, compression, options)
    write_seconds, exact = write_array(path, backend, layout, compression, seed, options)
    if options.cold_read:
        evict_from_page_cache(path)
    reduce_seconds, stats = reduce_array(path, backend, layout, compression, options)
    check = "ok" if stats.matches(exact) else "mismatch"
    measurement = Measurement(
        backend=backend,
        size_mb=size_mb,
        rows=layout.rows,
        columns=columns,
        compression=compression,
        file_bytes=path.stat().st_size,
        write_seconds=write_seconds,
        write_gbps=layout.nbytes / write_seconds / GB,
        reduce_seconds=reduce_seconds,
        reduce_gbps=layout.nbytes / reduce_seconds / GB,
        peak_rss_mb=peak_rss_mb(),
        check=check,
    )
    return measurement, stats, exact


def write_measurement(measurement: Measurement, path: str | Path) -> None:
    with atomic_output(path) as tmp:
        pd.DataFrame([asdict(measurement)], columns=COLUMNS).to_csv(tmp, index=False)


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    p = smk.params
    options = Options(threads=smk.threads, direct_chunks=p.direct_chunks, cold_read=p.cold_read)
    measurement, stats, exact = run(
        smk.output.data,
        p.backend,
        p.size_mb,
        p.columns,
        p.block_mb,
        p.chunk_kb,
        p.compression,
        p.seed,
        options,
        log,
    )
    log.info("out-of-core statistics:\n%s", stats.table().to_string())
    log.info("exact statistics of the generated integers:\n%s", exact.table().to_string())
    log.info("page cache before the reduce: %s", "cold (file evicted)" if options.cold_read else "warm")
    log.info("measurement: %s", measurement)
    if measurement.check != "ok":
        log.error("out-of-core statistics differ from the exact ones: check = %s", measurement.check)
    write_measurement(measurement, smk.output.table)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
