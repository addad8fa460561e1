"""Resource requests of the rules (memory, disk, minutes), computed from the config.

SLURM gets true requests from these (`mem_mb`, `disk_mb`, `runtime` sent as `--time`);
`snakemake --dry-run` prints them per job. Each function takes plain config values.
"""

from collections.abc import Mapping, Sequence
from typing import Any

MiB = 2**20
INTERPRETER_MB = 300  # Python with numpy, pandas and the HDF5 libraries loaded
LISTING_BLOCK_ELEMENTS = 2**20  # the datasets listing reads this many int64 at a time


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
    return 5 + datasets_bytes(arrays) // 2**30


def datasets_disk_mb(arrays: Sequence[Mapping[str, Any]]) -> int:
    return 1 + datasets_bytes(arrays) // MiB


def limits_mem_mb(memcpy_mb: int) -> int:
    """The copy's source and target arrays."""
    return INTERPRETER_MB + 2 * memcpy_mb + 16
