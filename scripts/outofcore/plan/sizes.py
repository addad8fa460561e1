"""Sizes both the Snakemake process (resource requests) and the jobs (their own checks) use."""

import math

MiB = 2**20
# An array store may take its uncompressed size (the data may not compress) plus the
# container's metadata and allocation slack: 1 % and a fixed 16 MiB.
DISK_HEADROOM_FACTOR = 1.01
DISK_HEADROOM_MIB = 16


def array_disk_bytes(data_bytes: int) -> int:
    """Disk an array of `data_bytes` may take once stored, headroom included."""
    return int(data_bytes * DISK_HEADROOM_FACTOR) + DISK_HEADROOM_MIB * MiB


def array_disk_mb(size_mb: int) -> int:
    """`array_disk_bytes` of a `size_mb` MiB array, in whole MiB (a rule's `disk_mb`)."""
    return math.ceil(array_disk_bytes(size_mb * MiB) / MiB)
