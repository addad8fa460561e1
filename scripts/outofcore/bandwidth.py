"""The machine's memory-copy bandwidth: the ceiling any in-memory codec is compared with.

A compressor that reads n bytes and writes them elsewhere cannot beat a plain copy of n
bytes for long, so benchmarks report their throughput next to this number, measured in
the same run on the same machine.
"""

import numpy as np

from outofcore.timing import Timing, measure

GB = 1e9  # bytes in a GB: throughputs are decimal GB/s, like the vendors' figures
# Both buffers together are 16 x a 32 MiB L3 cache: the copy runs from and to main memory.
CACHE_LEAVING_BYTES = 256 * 2**20


def memcpy_timing(nbytes: int = CACHE_LEAVING_BYTES, repeats: int = 3, min_time: float = 0.02) -> Timing:
    """Seconds per `np.copyto` of `nbytes` bytes into a preallocated array.

    Both buffers are written before timing, so no call pays for first-touch page faults
    (and the source is not the kernel's shared zero page, which would stay in cache).
    """
    if nbytes < 1:
        raise ValueError(f"nbytes must be >= 1, got {nbytes}")
    source = np.ones(nbytes, dtype=np.uint8)
    target = np.zeros(nbytes, dtype=np.uint8)
    target.fill(1)
    return measure(lambda: np.copyto(target, source), repeats=repeats, min_time=min_time)


def memcpy_gbps(nbytes: int = CACHE_LEAVING_BYTES, repeats: int = 3, min_time: float = 0.02) -> float:
    """Memory-copy bandwidth in GB/s (bytes copied per second / 1e9, median of the samples)."""
    return memcpy_timing(nbytes, repeats, min_time).rate(nbytes) / GB
