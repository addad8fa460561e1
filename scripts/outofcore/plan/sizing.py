"""Resource requests of the rules (memory, disk, minutes), from config values and
wildcards passed as plain numbers, and the record size they are computed from.

SLURM gets true requests from these (`mem_mb`, `disk_mb`, `runtime` sent as `--time`);
`snakemake --dry-run` prints them per job. Named functions here rather than in the .smk
files: Snakemake's linter wants no functions beside rules, and a function here can be
tested. Standard library only.
"""

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from outofcore.plan.hugearray_stores import DASK_TUNED_CHUNK_MB
from outofcore.plan.units import GiB, MiB

INTERPRETER_MB = 300  # Python with numpy, pandas and the HDF5 libraries loaded
LISTING_BLOCK_ELEMENTS = 2**20  # the datasets listing reads this many int64 at a time

# One row of the particle table: name 16 + idnumber 8 + pressure 4 + energy 8 bytes. The
# job code derives it from the record (`particle_table.RECORD_BYTES`); a test checks both.
PARTICLE_BYTES = 36

# An on-disk array may take its uncompressed size (the data may not compress) plus the
# container's metadata and allocation slack: 1 % and a fixed 16 MiB. The huge-array job
# checks the free space against the same figure (`array_disk_bytes`) before writing.
DISK_HEADROOM_FACTOR = 1.01
DISK_HEADROOM_MIB = 16


def particles_mem_mb(rows: int) -> int:
    """The table in memory twice, pandas' frame (~150 B/row) and the query's results; then
    the records, a shuffled copy, their Arrow table and pandas frame for the other stores."""
    return 500 + rows * 400 // MiB


def particles_runtime(rows: int) -> int:
    """Minutes: iterrows, pandas, the index builds and the HDFStore writes dominate, ~1-2
    million rows/s each."""
    return 10 + 3 * rows // 1_000_000


def particles_disk_mb(rows: int) -> int:
    """The table, np.save's copy, the direct-chunks copy, the indexed copy, the row table;
    then Parquet and HDFStore (~0.8x and 1.2x the table) for both orders, a shuffled
    table and its indexed copy."""
    return 10 + 8 * rows * PARTICLE_BYTES // MiB


def blosc_sweep_mem_mb(sizes: Sequence[int], method: str) -> int:
    """Every size at once (they are timed in the same rounds): pack_array holds each
    array, its pickle, the unpacked bytes and two unpacked arrays, and the unpacked array
    of its job's pack_tensor (whose frame is compressed); the safe methods each
    array, its reused output and one compressed buffer; the memcpy, before them, its
    source and target, at least 256 MB each (to leave the CPU caches)."""
    total_mb = 8 * sum(sizes) / MiB
    arrays = 6 if method == "pack_array" else 3
    return int(300 + max(arrays * total_mb, 2 * max(8 * max(sizes) / MiB, 256)))


def blosc_sweep_runtime(
    sizes: Sequence[int], threads: Sequence[int], repeats: int, min_time: float, pipelines: int = 1
) -> int:
    """Minutes. Each point: (repeats + 1 probe) calls per operation, thread count and
    filter pipeline (blosc2 only); the slowest (zstd, pickle) move 0.3 GB/s here: allow
    0.05; small sizes last ~2 x min_time per call."""
    seconds = sum(8 * n / 0.05e9 + 2 * min_time for n in sizes)
    return 2 + int(2 * len(threads) * pipelines * (repeats + 1) * seconds / 60)


def datasets_bytes(arrays: Sequence[Mapping[str, Any]]) -> int:
    """Bytes of all configured datasets (int64)."""
    return sum(spec["size"] for spec in arrays) * 8


def datasets_mem_mb(arrays: Sequence[Mapping[str, Any]]) -> int:
    """One array in memory at a time, plus its int64 copy."""
    return INTERPRETER_MB + 2 * max(spec["size"] for spec in arrays) * 8 // MiB


def datasets_listing_mem_mb() -> int:
    return INTERPRETER_MB + 2 * LISTING_BLOCK_ELEMENTS * 8 // MiB


def datasets_runtime(arrays: Sequence[Mapping[str, Any]]) -> int:
    """Minutes: 5, plus 1 per GiB written or read (>= 35 MB/s)."""
    return 5 + datasets_bytes(arrays) // GiB


def datasets_disk_mb(arrays: Sequence[Mapping[str, Any]]) -> int:
    return 1 + datasets_bytes(arrays) // MiB


def limits_mem_mb(memcpy_mb: int) -> int:
    """The copy's source and target arrays."""
    return INTERPRETER_MB + 2 * memcpy_mb + 16


def job_cores(cores: Any) -> int:
    """The cores `all` stands for in a thread list: Snakemake's --cores when it is a
    machine's count, else this machine's (a cluster executor may set no real count)."""
    if isinstance(cores, int) and 1 <= cores <= 4096:
        return cores
    return os.cpu_count() or 1


def array_disk_bytes(data_bytes: int) -> int:
    """Disk an array of `data_bytes` may take once stored, headroom included."""
    return int(data_bytes * DISK_HEADROOM_FACTOR) + DISK_HEADROOM_MIB * MiB


def hugearray_disk_mb(size_mb: int) -> int:
    """`array_disk_bytes` of a `size_mb` MiB array, in whole MiB."""
    return math.ceil(array_disk_bytes(size_mb * MiB) / MiB)


def hugearray_mem_mb(
    threads: int,
    block_mb: int,
    chunk_kb: int,
    backend: str = "tables",
    engine: str = "threads",
    own_data: bool = True,
) -> int:
    """Interpreter and libraries (~120 MiB), then per block: the float64 block, its
        uint16 source, its compressed chunks, and one block (or memmap window) per reading
        thread, plus two chunk buffers per thread. Measured peaks at block_mb 16/64/256
        with 2 threads: 148/232/508 MiB (tables), 157/276/693 MiB (memmap).

        The dask engine adds its import (~50 MiB) and up to `threads + 1` chunks in flight
    XX
        Measured at 4 GiB, 64 MiB blocks, 2 threads: 304 (tables), 360 (memmap), 374-475
        (dask on tables, memmap, zarr) MiB.

        A source other than the stage's own 16-bit integers (`own_data` false) adds up to
        three blocks: its values (up to float64, four times the uint16 source), the pieces
        they are drawn or tiled from, and a CSV or Parquet file held whole (at most a block)."""
    mem = 150 + (threads + 1) * block_mb + 2 * threads * chunk_kb / 1024
    if engine == "dask":  # chunks of dask's own size (default) or of DASK_TUNED_CHUNK_MB (tuned)
        mem += 50 + (threads + 1) * max(block_mb, DASK_TUNED_CHUNK_MB)
    if backend == "zarr":
        mem += threads * block_mb
    if not own_data:
        mem += 3 * block_mb
    return math.ceil(mem)


def hugearray_runtime(size_mb: int) -> int:
    """Minutes, assuming at least 25 MB/s for writing and reading back (a slow disk)."""
    return 2 + math.ceil(2 * size_mb / 25 / 60)
