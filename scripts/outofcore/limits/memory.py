"""The machine's memory bandwidths: the ceilings in-memory codecs are compared with.

A compressor that reads n bytes and writes them elsewhere cannot beat a plain copy of n
bytes for long, so benchmarks report their throughput next to these numbers, measured
in the same run (the same job, on a cluster) on the same machine:

- `copy_{T}t`: `np.copyto` of >= 256 MiB split over T threads (numpy releases the GIL);
- `write_{T}t`: filling >= 256 MiB, split over T threads (writes only: what a
  decompression that reads few compressed bytes could at most reach);
- `read_{T}t`: reading >= 256 MiB in 1 MiB pieces copied into a per-thread buffer that
  stays in the CPU cache (reads only: what a compression could at most reach).
"""

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from outofcore.core.timing import Point, Timing, measure, measure_interleaved
from outofcore.plan.units import GB, MiB

# Both buffers together are 16 x a 32 MiB L3 cache: the copy runs from and to main memory.
CACHE_LEAVING_BYTES = 256 * MiB
PIECE = MiB  # bytes per read of the read-only probe: fits the per-core L2 cache
KINDS = ("copy", "write", "read")


def limit_name(kind: str, threads: int) -> str:
    """The limits.csv row of a bandwidth: copy_2t, write_8t..."""
    return f"{kind}_{threads}t"


def memcpy_timing(nbytes: int = CACHE_LEAVING_BYTES, repeats: int = 3, min_time: float = 0.02) -> Timing:
    """Seconds per `np.copyto` of `nbytes` bytes into a preallocated array, one thread.

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


def _split(array: np.ndarray, parts: int) -> list[np.ndarray]:
    return np.array_split(array, parts)


def _parallel(pool: ThreadPoolExecutor, tasks: Sequence[Callable[[], object]]) -> None:
    for future in [pool.submit(task) for task in tasks]:
        future.result()


def _read_pieces(source: np.ndarray, scratch: np.ndarray) -> None:
    for start in range(0, len(source), PIECE):
        piece = source[start : start + PIECE]
        np.copyto(scratch[: len(piece)], piece)


def bandwidth_timings(
    threads: Sequence[int], nbytes: int = CACHE_LEAVING_BYTES, repeats: int = 3, min_time: float = 0.02
) -> dict[tuple[str, int], Timing]:
    """Seconds per pass of copy, write and read over `nbytes` bytes, for every thread count.

    All points are timed in interleaved rounds (`timing.measure_interleaved`); each
    thread count has a pool of its own, started before timing.
    """
    if nbytes < 1:
        raise ValueError(f"nbytes must be >= 1, got {nbytes}")
    counts = sorted(set(threads))
    source = np.ones(nbytes, dtype=np.uint8)
    target = np.zeros(nbytes, dtype=np.uint8)
    target.fill(1)
    pools = {t: ThreadPoolExecutor(max_workers=t) for t in counts}
    points: dict[tuple[str, int], Point] = {}
    try:
        for t in counts:
            pool = pools[t]
            sources, targets = _split(source, t), _split(target, t)
            scratch = [np.ones(PIECE, dtype=np.uint8) for _ in range(t)]
            copies = [lambda s=s, d=d: np.copyto(d, s) for s, d in zip(sources, targets, strict=True)]
            fills = [lambda d=d: d.fill(2) for d in targets]
            reads = [lambda s=s, c=c: _read_pieces(s, c) for s, c in zip(sources, scratch, strict=True)]
            for kind, tasks in zip(KINDS, (copies, fills, reads), strict=True):
                points[kind, t] = Point(lambda p=pool, ts=tasks: _parallel(p, ts), min_time=min_time)
        for point in points.values():  # untimed: starts the pools' threads, touches every page
            point.func()
        return measure_interleaved(points, repeats)
    finally:
        for pool in pools.values():
            pool.shutdown()


def bandwidths_gbps(
    threads: Sequence[int], nbytes: int = CACHE_LEAVING_BYTES, repeats: int = 3, min_time: float = 0.02
) -> dict[str, tuple[float, Timing]]:
    """{"copy_2t": (GB/s in the fastest sample, Timing), ...} for every kind and thread count:
    a limit is the best the machine did; other processes can only slow it down."""
    timings = bandwidth_timings(threads, nbytes, repeats, min_time)
    return {
        limit_name(kind, t): (timing.best_rate(nbytes) / GB, timing) for (kind, t), timing in timings.items()
    }
