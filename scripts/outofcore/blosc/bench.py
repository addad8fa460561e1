"""The tutorial's steps 3-4: blosc compression of a data source across sizes.

The tutorial compressed `np.linspace(0, 100, n)`; the source here is any of
`outofcore.data.sources` (linspace by default), with its own dtype.
One job sweeps one (data, method, codec): every configured size and thread count (and,
for blosc2, every filter pipeline of `outofcore.blosc.filters`), compression
and decompression, timed by `timing.measure_interleaved` (autoranged samples in rounds
over every point of every size, median and spread reported) and each round trip checked.
The job holds all its sizes' arrays at once, so that a point's samples lie seconds apart.
The job also measures the machine's memory bandwidths (copy, write, read) over each of
its thread counts, so every throughput has its ceiling measured on the same machine
(the same node, on a cluster).

Methods:
- `pack_array`: the tutorial's `blosc.pack_array` / `unpack_array` (pickle inside: the
  baseline only, never used to read bytes back); its job also times `pack_tensor`:
  python-blosc2's recommended counterpart, `blosc2.pack_tensor` / `unpack_tensor` (no
  pickle, a new array per unpack as with `unpack_array`; `blosc.tuned`);
- `compress_ptr`: python-blosc's `compress_ptr` / `decompress_ptr` into a reused array;
- `blosc2`: python-blosc2's `compress` / `decompress(dst=...)` into a reused array;
  its job also times `compress2`: python-blosc2 as its docs advise (`blosc.tuned`:
  `compress2` / `decompress2` with the array's type size, the call's threads and
  L2-sized blocks in `CParams`).
The last three are `safe_blosc`'s pickle-free path: the array's dtype and shape are kept
apart from the bytes. Every method uses the configured clevel with byte shuffle, so
pack_array differs from compress_ptr/blosclz only by its pickle and copies. Lossless round
trips must give the input back exactly; a lossy pipeline (trunc_prec) within its bound,
and its largest absolute error is recorded.
"""

from collections.abc import Callable, Sequence
from typing import Any

import blosc
import blosc2
import numpy as np
import pandas as pd

from outofcore.blosc import filters as blosc_filters
from outofcore.blosc import tuned
from outofcore.blosc.rows import DEFAULT_DATA, MEMCPY, NO_CODEC, SETTING, SweepRow, sweep_frame
from outofcore.core.timing import Point, Timing, measure_interleaved
from outofcore.data.sources import Source, generator
from outofcore.limits.memory import CACHE_LEAVING_BYTES, KINDS, bandwidth_timings
from outofcore.safety.blosc_bytes import CODECS, blosc_threads, compress, decompress_into

METHODS = ("pack_array", "compress_ptr", "blosc2")
SAFE_FORMAT = {"compress_ptr": "blosc1", "blosc2": "blosc2", "compress2": "blosc2"}  # -> safe_blosc format
# the rows a job's method gives (their settings: `rows.SETTING`): the pack_array job times
# python-blosc2's counterpart of the tutorial's call, the blosc2 job python-blosc2 as
# typed and as its docs advise
ROWS = {
    "pack_array": ("pack_array", "pack_tensor"),
    "compress_ptr": ("compress_ptr",),
    "blosc2": ("blosc2", "compress2"),
}


class RoundTripError(AssertionError):
    """A decompressed array differs from the array that was compressed."""


def seed_array(size: int) -> np.ndarray:
    """The tutorial's data: `size` float64 values evenly spaced from 0 to 100."""
    return np.linspace(0, 100, size)


def check_round_trip(
    original: np.ndarray, restored: np.ndarray, label: str, bits: int | None = None
) -> float:
    """Bitwise equality, or for a lossy pipeline keeping `bits` mantissa bits, every value
    within its relative bound; returns the largest absolute error (0 when exact)."""
    if restored.dtype != original.dtype or restored.shape != original.shape:
        raise RoundTripError(
            f"{label}: got {restored.dtype}{restored.shape}, expected {original.dtype}{original.shape}"
        )
    if bits is None:
        if not blosc_filters.same_bits(original, restored):
            raise RoundTripError(f"{label}: decompressed values differ from the input")
        return 0.0
    if not blosc_filters.within_bound(original, restored, bits):
        raise RoundTripError(f"{label}: decompressed values differ by more than 2**-{bits} relative")
    return blosc_filters.max_error(original, restored)


def round_trip_calls(
    method: str,
    codec: str,
    clevel: int,
    array: np.ndarray,
    out: np.ndarray | None,
    pipeline: blosc_filters.Pipeline | None = None,
) -> tuple[Callable[[], None], Callable[[], None], Callable[[], np.ndarray], Callable[[], int]]:
    """(compress, decompress, result, compressed size): the calls timed for one method.

    Each compression keeps its bytes for the decompression that follows; the safe
    methods decompress into `out`, allocated once per size and reused by every call.
    """
    last: dict[str, Any] = {}
    if method == "pack_array":

        def pack() -> None:
            last["bytes"] = blosc.pack_array(array, clevel, blosc.SHUFFLE, codec)

        def unpack() -> None:
            last["array"] = blosc.unpack_array(last["bytes"])

        return pack, unpack, lambda: last.pop("array"), lambda: len(last["bytes"])
    if method == "pack_tensor":

        def pack_frame() -> None:
            last["bytes"] = tuned.pack_tensor(array, codec, clevel)

        def unpack_frame() -> None:
            last["array"] = tuned.unpack_tensor(last["bytes"])

        return pack_frame, unpack_frame, lambda: last.pop("array"), lambda: len(last["bytes"])
    if out is None:
        raise ValueError(f"method {method} needs a preallocated output array")
    fmt = SAFE_FORMAT[method]
    filtered = None
    if pipeline is not None and method == "blosc2":
        filtered = blosc_filters.compressor(pipeline, codec, clevel)
    if method == "compress2":
        filtered = tuned.compressor(pipeline or blosc_filters.parse(blosc_filters.DEFAULT), codec, clevel)

    def pack_safe() -> None:
        last["bytes"] = filtered(array) if filtered else compress(array, fmt, codec, clevel)

    def unpack_safe() -> None:
        if method == "compress2":
            tuned.decompress_into(last["bytes"], out)
        else:
            decompress_into(last["bytes"], fmt, out)

    return pack_safe, unpack_safe, lambda: out, lambda: len(last["bytes"])


def set_threads(threads: int) -> None:
    blosc.set_nthreads(threads)
    blosc2.set_nthreads(threads)


Calls = dict[Any, Any]  # (row method, pipeline) -> round_trip_calls(...) of one size
# size, row method, pipeline, threads, operation
PointKey = tuple[int, str, "blosc_filters.Pipeline | None", int, str]


def size_points(
    method: str,
    codec: str,
    clevel: int,
    threads: Sequence[int],
    array: np.ndarray,
    min_time: float,
    pipelines: Sequence[blosc_filters.Pipeline | None] = (None,),
) -> tuple[dict[PointKey, Point], Calls, np.ndarray | None]:
    """The compress and decompress points of one size at every filter pipeline and thread
    count, the calls behind them and the reused output array. The thread count is set
    before each sample, outside the timed region."""
    out = None if method == "pack_array" else np.empty_like(array)
    calls = {
        (row, pipeline): round_trip_calls(row, codec, clevel, array, out, pipeline)
        for row in ROWS[method]
        for pipeline in pipelines
    }
    points: dict[PointKey, Point] = {}
    for (row, pipeline), (pack, unpack, _, _) in calls.items():
        # a compress point comes first: its calibration makes the bytes decompressed next
        for count in threads:
            ready = lambda count=count: set_threads(count)  # noqa: E731
            points[array.size, row, pipeline, count, "compress"] = Point(pack, ready, min_time)
            points[array.size, row, pipeline, count, "decompress"] = Point(unpack, ready, min_time)
    return points, calls, out


def checked_rows(
    method: str,
    codec: str,
    threads: Sequence[int],
    array: np.ndarray,
    calls: Calls,
    out: np.ndarray | None,
    timings: dict[PointKey, Timing],
    data: str = DEFAULT_DATA,
    coverage: tuple[float, float] = (1.0, 1.0),
) -> list[SweepRow]:
    """The rows of one size, each point's decompression checked once more on a zeroed output."""
    rows = []
    for (row, pipeline), (pack, unpack, result, compressed) in calls.items():
        filters = pipeline.name if pipeline is not None else blosc_filters.DEFAULT
        for count in threads:
            set_threads(count)
            if out is not None:
                out.fill(0)  # a decompression that wrote nothing cannot pass the check
            pack()
            unpack()
            label = f"{data} {row}/{codec}/{filters}, {count} threads, n={array.size}"
            error = check_round_trip(array, result(), label, pipeline.bits if pipeline else None)
            more = {"data": data, "filters": filters, "dtype": array.dtype, "max_error": error}
            more["setting"] = SETTING[row]
            more |= {"coverage": coverage[0], "file_repeats": coverage[1]}
            rows += [
                SweepRow.of(
                    row,
                    codec,
                    count,
                    array.size,
                    op,
                    timings[array.size, row, pipeline, count, op],
                    compressed(),
                    **more,
                )
                for op in ("compress", "decompress")
            ]
    return rows


def bandwidth_rows(threads: Sequence[int], size: int, repeats: int, min_time: float) -> list[SweepRow]:
    """The memory bandwidths (copy, write, read) over `size` float64 at every thread count."""
    timings = bandwidth_timings(threads, 8 * size, repeats, min_time)
    return [
        SweepRow.of(
            MEMCPY,
            NO_CODEC,
            count,
            size,
            kind,
            timings[kind, count],
            8 * size,
            data=NO_CODEC,
            filters=NO_CODEC,
            setting="pipeline",  # the machine's bandwidths, measured by the workflow's own code
        )
        for count in sorted(set(threads))
        for kind in KINDS
    ]


def sweep(
    method: str,
    codec: str,
    sizes: Sequence[int],
    clevel: int,
    threads: Sequence[int],
    repeats: int,
    min_time: float,
    log: Callable[[str], None] = lambda message: None,
    memcpy_size: int | None = None,
    source: Source | None = None,
    filters: Sequence[str] = (blosc_filters.DEFAULT,),
) -> pd.DataFrame:
    """Every size x thread count (x filter pipeline for blosc2) of one (data, method,
    codec) on `source` (default the tutorial's linspace), after the bandwidth rows.

    The bandwidths move `memcpy_size` float64, by default CACHE_LEAVING_BYTES (256 MiB,
    far above the CPU caches: main memory, not a cache).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r} (known: {', '.join(METHODS)})")
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r} (known: {', '.join(CODECS)})")
    threads = sorted(set(threads))
    memcpy_size = memcpy_size or CACHE_LEAVING_BYTES // 8
    rows = bandwidth_rows(threads, memcpy_size, repeats, min_time)
    for row in rows:
        log(f"{row.operation} over {row.threads} threads: {row.gbps:.2f} GB/s (spread {row.spread:.0%})")
    source = source or generator(DEFAULT_DATA, 0)
    pipelines = [blosc_filters.parse(name) for name in (filters if method == "blosc2" else [])] or [None]
    for pipeline in pipelines:
        if pipeline is not None and not pipeline.applies_to(source.dtype):
            log(f"{pipeline.name}: not applicable to {source.dtype} data, skipped")
    pipelines = [p for p in pipelines if p is None or p.applies_to(source.dtype)]
    # every point of every size in the same rounds: a slow spell of the machine (seconds on
    # a shared host) then falls on one sample of many points, not on all samples of a size
    # a file's values drawn across the whole of it, or tiled (`Source.sample`)
    samples = {size: source.sample(size) for size in sorted(sizes)}
    arrays = {size: array for size, (array, _, _) in samples.items()}
    prepared = {
        size: size_points(method, codec, clevel, threads, array, min_time, pipelines)
        for size, array in arrays.items()
    }
    points = {key: point for sized, _, _ in prepared.values() for key, point in sized.items()}
    with blosc_threads(max(threads)):
        timings = measure_interleaved(points, repeats)
        for size, (_, calls, out) in prepared.items():
            covered = samples[size][1:]
            point = checked_rows(
                method, codec, threads, arrays[size], calls, out, timings, source.label, covered
            )
            for pack, unpack in zip(point[::2], point[1::2], strict=True):
                log(
                    f"{source.label} {pack.method}/{codec}/{pack.filters} n={size} threads={pack.threads}: "
                    f"ratio {pack.ratio:.2f}, compress {pack.gbps:.3f} GB/s (spread {pack.spread:.0%}), "
                    f"decompress {unpack.gbps:.3f} GB/s (spread {unpack.spread:.0%}), "
                    f"max error {pack.max_error:g}, coverage {pack.coverage:.3g} (file repeated "
                    f"{pack.file_repeats:.3g}x)"
                )
            rows += point
    return sweep_frame(rows)
