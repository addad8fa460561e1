"""What a huge-array job needs (memory, disk, minutes), from config values and wildcards
passed as plain numbers: the rules' resource requests, and the disk headroom the job
itself checks against the free space before writing (one definition for both).

Named functions here rather than in the .smk file: Snakemake's linter wants no
functions beside rules, and a function here can be tested. Standard library only.
"""

import math

MiB = 2**20
# An array store may take its uncompressed size (the data may not compress) plus the
# container's metadata and allocation slack: 1 % and a fixed 16 MiB.
DISK_HEADROOM_FACTOR = 1.01
DISK_HEADROOM_MIB = 16


def array_disk_bytes(data_bytes: int) -> int:
    """Disk an array of `data_bytes` may take once stored, headroom included."""
    return int(data_bytes * DISK_HEADROOM_FACTOR) + DISK_HEADROOM_MIB * MiB


def disk_mb(size_mb: int) -> int:
    """`array_disk_bytes` of a `size_mb` MiB array, in whole MiB: the job's `disk_mb`."""
    return math.ceil(array_disk_bytes(size_mb * MiB) / MiB)


def mem_mb(threads: int, block_mb: int, chunk_kb: int) -> int:
    """Interpreter and libraries (~120 MiB), then per block: the float64 block, its
    uint16 source, its compressed chunks, and one block (or memmap window) per reading
    thread, plus two chunk buffers per thread. Measured peaks at block_mb 16/64/256
    with 2 threads: 148/232/508 MiB (tables), 157/276/693 MiB (memmap)."""
    return math.ceil(150 + (threads + 1) * block_mb + 2 * threads * chunk_kb / 1024)


def runtime(size_mb: int) -> int:
    """Minutes, assuming at least 25 MB/s for writing and reading back (a slow disk)."""
    return 2 + math.ceil(2 * size_mb / 25 / 60)
