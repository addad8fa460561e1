"""An on-disk array larger than memory: built block by block, reduced out of core.

The classic recipe "building a huge numpy array using PyTables", made measurable. For
one size and one backend the job:

1. generates the array block by block from the config's seed (never the whole array
   in memory) and appends each block to the on-disk container, timing only the
   container's work (appends, close and fsync: the data is on disk when the clock stops);
2. evicts the file from the page cache (``cold_read``), so the reduce reads the disk;
3. computes per-column sum, mean, min and max piece by piece from the file, on
   ``threads`` workers, each holding one piece at a time;
4. checks them against the same statistics computed exactly from the generated
   integers before they were written (integer arithmetic on the source, not floats
   read back): ``check`` is ``ok`` only if every value matches exactly.

The data: integers uniform in [0, 2**16) (16-bit samples, as an ADC gives) stored as
float64. They compress somewhat but not trivially (blosc2 lz4 + shuffle: ratio about
2.9): the sign/exponent bytes are nearly constant and the low mantissa bytes are zero,
but 16 random bits per value stay incompressible. And every partial sum of integers
below 2**53 is exact in float64 whatever the order, so the check needs no tolerance.

The backends (PyTables EArray, h5py dataset, numpy.memmap) are in `hugearray_io`.

No ``tables.Expr`` is used: re-evaluated after ``set_inputs_range`` it silently
returned an empty result in a peer run. Results are checked, not only timed.

Each phase is timed once with `time.perf_counter` (per-phase sums in the log), not with
`timing.measure`: autoranging would write gigabytes several times over. Each job runs
alone (``timing_lock``), and throughputs are GB/s of uncompressed array.
"""

import os
import resource
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import blosc2
import numpy as np
import pandas as pd

from outofcore.hugearray_io import (
    READERS,
    WRITERS,
    Layout,
    MiB,
    effective_compression,
    power_of_two_at_most,
    read_in_parallel,
    uses_direct_chunks,
)
from outofcore.io_utils import atomic_output
from outofcore.seeding import rng_for

GB = 1e9  # throughputs are in GB/s of uncompressed array bytes (10**9 bytes)
VALUE_BITS = 16  # values are integers in [0, 2**16)
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

    @classmethod
    def merged(cls, parts: list["ColumnStats"]) -> "ColumnStats":
        """One statistics from several over disjoint rows."""
        whole = cls(parts[0].columns, parts[0].dtype)
        for part in parts:
            whole.rows += part.rows
            whole.total += part.total
            np.minimum(whole.low, part.low, out=whole.low)
            np.maximum(whole.high, part.high, out=whole.high)
        return whole

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


def evict_from_page_cache(path: Path) -> bool:
    """Drop the (clean, synced) file's pages from the page cache: the next read hits the
    disk. False where the OS offers no posix_fadvise (macOS): the read will be warm."""
    if not hasattr(os, "posix_fadvise"):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return True


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


class Stopwatch:
    """Seconds spent inside `with watch.phase(name):` blocks, summed per phase."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - started

    @property
    def total(self) -> float:
        return sum(self.phases.values())


def write_array(path: Path, backend: str, layout: Layout, compression: str, seed: int, options: Options):
    """Generate and write the array; returns (Stopwatch of the write, exact statistics).

    The stopwatch runs only while the container works: creating it, appending, closing
    and the fsync that puts the data on disk; drawing the numbers is not counted.
    """
    direct = uses_direct_chunks(backend, compression, options.direct_chunks)
    exact = ColumnStats(layout.columns, dtype=np.int64)
    buffer = np.empty((layout.block_rows, layout.columns))  # reused: no new pages per block
    watch = Stopwatch()
    with atomic_output(path) as tmp:
        with watch.phase("create"):
            writer = WRITERS[backend](tmp, layout, compression, options.threads, direct)
        try:
            for source in generate_blocks(seed, layout):
                block = buffer[: len(source)]
                np.copyto(block, source)
                exact.add_source(source)
                with watch.phase("append"):
                    writer.append(block)
        finally:
            with watch.phase("close"):
                writer.close()
        with watch.phase("fsync"):
            sync_file(tmp)
    return watch, exact


def reduce_array(path: Path, backend: str, layout: Layout, compression: str, options: Options):
    """Per-column statistics read piece by piece from the file; returns (seconds, stats).

    `threads` workers each fold the pieces they read into their own statistics, merged
    at the end (exact: the sums are of integers).
    """
    direct = uses_direct_chunks(backend, compression, options.direct_chunks)
    started = time.perf_counter()
    reader = READERS[backend](path, layout, compression, options.threads, direct)
    try:
        partial = [ColumnStats(layout.columns) for _ in range(options.threads)]
        read_in_parallel(reader, [stats.add_block for stats in partial])
    finally:
        reader.close()
    return time.perf_counter() - started, ColumnStats.merged(partial)


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
    watch, exact = write_array(path, backend, layout, compression, seed, options)
    write_seconds = watch.total
    if log:
        log.info("write phases (s): %s", {name: round(t, 3) for name, t in watch.phases.items()})
    cold = options.cold_read and evict_from_page_cache(path)
    if log:
        log.info("page cache before the reduce: %s", "cold (file evicted)" if cold else "warm")
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
