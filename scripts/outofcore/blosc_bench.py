"""The tutorial's steps 3-4: blosc compression of a data source across sizes.

The tutorial compressed `np.linspace(0, 100, n)`; the source here is any of
`outofcore.data_sources` (linspace by default), with its own dtype.
One job sweeps one (data, method, codec): every configured size and thread count (and,
for blosc2, every filter pipeline of `outofcore.blosc_filters`), compression
and decompression, timed by `timing.measure_interleaved` (autoranged samples in rounds
over every point of one size, median and spread reported) and each round trip checked.
The job also measures the machine's memory bandwidths (copy, write, read) over each of
its thread counts, so every throughput has its ceiling measured on the same machine
(the same node, on a cluster).

Methods:
- `pack_array`: the tutorial's `blosc.pack_array` / `unpack_array` (pickle inside: the
  baseline only, never used to read bytes back);
- `compress_ptr`: python-blosc's `compress_ptr` / `decompress_ptr` into a reused array;
- `blosc2`: python-blosc2's `compress` / `decompress(dst=...)` into a reused array.
The last two are `safe_blosc`'s pickle-free path: the array's dtype and shape are kept
apart from the bytes. Every method uses the configured clevel with byte shuffle, so
pack_array differs from compress_ptr/blosclz only by its pickle and copies. Lossless round
trips must give the input back exactly; a lossy pipeline (trunc_prec) within its bound,
and its largest absolute error is recorded.
"""

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import blosc
import blosc2
import numpy as np
import pandas as pd

from outofcore import blosc_filters
from outofcore.bandwidth import CACHE_LEAVING_BYTES, GB, KINDS, bandwidth_timings
from outofcore.data_sources import Source, generator
from outofcore.safe_blosc import CODECS, blosc_threads, compress, decompress_into
from outofcore.timing import Point, Timing, measure_interleaved

METHODS = ("pack_array", "compress_ptr", "blosc2")
SAFE_FORMAT = {"compress_ptr": "blosc1", "blosc2": "blosc2"}  # method -> safe_blosc format
MEMCPY = "memcpy"  # method of the memory-bandwidth rows (operation copy/write/read, codec NO_CODEC)
NO_CODEC = "none"
DEFAULT_DATA = "linspace"
FLOAT64 = np.dtype(np.float64)


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
    if out is None:
        raise ValueError(f"method {method} needs a preallocated output array")
    fmt = SAFE_FORMAT[method]
    filtered = None
    if pipeline is not None and method == "blosc2":
        filtered = blosc_filters.compressor(pipeline, codec, clevel)

    def pack_safe() -> None:
        last["bytes"] = filtered(array) if filtered else compress(array, fmt, codec, clevel)

    def unpack_safe() -> None:
        decompress_into(last["bytes"], fmt, out)

    return pack_safe, unpack_safe, lambda: out, lambda: len(last["bytes"])


@dataclass(frozen=True)
class SweepRow:
    """One line of the sweep table: `size` elements of the source's dtype; throughputs
    count uncompressed bytes."""

    data: str  # the data source's label
    method: str
    codec: str
    filters: str  # blosc2's filter pipeline; the other methods: shuffle
    threads: int
    size: int  # elements
    nbytes: int  # uncompressed bytes
    operation: str  # "compress", "decompress", or a memory bandwidth: "copy", "write", "read"
    seconds: float  # median seconds per call
    seconds_min: float
    seconds_max: float
    repeats: int
    compressed_nbytes: int
    ratio: float
    gbps: float  # uncompressed GB (10**9 bytes) per second
    spread: float  # (max - min) / median of the samples
    stable: bool  # spread <= 0.15
    dtype: str = "float64"
    max_error: float = 0.0  # largest absolute error of the round trip (lossy filters only)
    others_busy: float = float("nan")  # share of the cores other processes kept busy meanwhile

    @classmethod
    def of(
        cls,
        method: str,
        codec: str,
        threads: int,
        size: int,
        operation: str,
        timing: Timing,
        compressed: int,
        *,
        data: str = DEFAULT_DATA,
        filters: str = blosc_filters.DEFAULT,
        dtype: np.dtype = FLOAT64,
        max_error: float = 0.0,
    ) -> "SweepRow":
        nbytes = dtype.itemsize * size
        return cls(
            data=data,
            method=method,
            codec=codec,
            filters=filters,
            threads=threads,
            size=size,
            nbytes=nbytes,
            operation=operation,
            seconds=timing.seconds,
            seconds_min=timing.seconds_min,
            seconds_max=timing.seconds_max,
            repeats=timing.repeats,
            compressed_nbytes=compressed,
            ratio=nbytes / compressed,
            gbps=timing.rate(nbytes) / GB,
            spread=timing.spread,
            stable=timing.stable,
            dtype=str(dtype),
            max_error=max_error,
        )


COLUMNS = [field.name for field in fields(SweepRow)]


def sweep_frame(rows: Sequence[SweepRow]) -> pd.DataFrame:
    """The rows as a table with the CSV's columns, in field order."""
    return pd.DataFrame([asdict(row) for row in rows], columns=COLUMNS)


def set_threads(threads: int) -> None:
    blosc.set_nthreads(threads)
    blosc2.set_nthreads(threads)


def measure_size(
    method: str,
    codec: str,
    clevel: int,
    threads: Sequence[int],
    array: np.ndarray,
    repeats: int,
    min_time: float,
    data: str = DEFAULT_DATA,
    pipelines: Sequence[blosc_filters.Pipeline | None] = (None,),
) -> list[SweepRow]:
    """The compress and decompress rows of one size at every filter pipeline and thread count.

    All (pipeline, threads, operation) points of the size are sampled in interleaved
    rounds, so a busy spell of the machine slows them alike; the thread count is set
    before each sample, outside the timed region. Each point's decompression is then
    checked once more on a zeroed output.
    """
    out = None if method == "pack_array" else np.empty_like(array)
    calls = {
        pipeline: round_trip_calls(method, codec, clevel, array, out, pipeline) for pipeline in pipelines
    }
    points: dict[tuple[blosc_filters.Pipeline | None, int, str], Point] = {}
    with blosc_threads(max(threads)):
        for pipeline, (pack, unpack, _, _) in calls.items():
            # a compress point comes first: its calibration makes the bytes decompressed next
            for count in threads:
                ready = lambda count=count: set_threads(count)  # noqa: E731
                points[pipeline, count, "compress"] = Point(pack, ready, min_time)
                points[pipeline, count, "decompress"] = Point(unpack, ready, min_time)
        timings = measure_interleaved(points, repeats)
        rows = []
        for pipeline, (pack, unpack, result, compressed) in calls.items():
            filters = pipeline.name if pipeline is not None else blosc_filters.DEFAULT
            for count in threads:
                set_threads(count)
                if out is not None:
                    out.fill(0)  # a decompression that wrote nothing cannot pass the check
                pack()
                unpack()
                label = f"{data} {method}/{codec}/{filters}, {count} threads, n={array.size}"
                error = check_round_trip(array, result(), label, pipeline.bits if pipeline else None)
                more = {"data": data, "filters": filters, "dtype": array.dtype, "max_error": error}
                rows += [
                    SweepRow.of(
                        method,
                        codec,
                        count,
                        array.size,
                        op,
                        timings[pipeline, count, op],
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
    for size in sorted(sizes):
        array = source.array(size)
        point = measure_size(
            method, codec, clevel, threads, array, repeats, min_time, source.label, pipelines
        )
        for pack, unpack in zip(point[::2], point[1::2], strict=True):
            log(
                f"{source.label} {method}/{codec}/{pack.filters} n={size} threads={pack.threads}: "
                f"ratio {pack.ratio:.2f}, compress {pack.gbps:.3f} GB/s (spread {pack.spread:.0%}), "
                f"decompress {unpack.gbps:.3f} GB/s (spread {unpack.spread:.0%}), "
                f"max error {pack.max_error:g}"
            )
        rows += point
        del array  # the next size's arrays are allocated after these are freed
    return sweep_frame(rows)


def collect(parts: Sequence[str | Path]) -> pd.DataFrame:
    """The sweep table of all jobs: per bandwidth and thread count one row combining the
    jobs' (median of their medians, extremes of all samples, their samples), then the
    points. A combined row is stable only if every job's was."""
    table = pd.concat([pd.read_csv(path, keep_default_na=False) for path in parts], ignore_index=True)
    copies = table[table["method"] == MEMCPY]
    rows = table[table["method"] != MEMCPY]
    key = ["data", "method", "codec", "filters", "threads", "size", "operation"]
    duplicated = rows[rows.duplicated(key, keep=False)]
    if len(duplicated):
        raise ValueError(f"the parts measure some points twice:\n{duplicated[key]}")
    frames = [rows.sort_values(key, kind="stable")]
    combined = []
    for _, same in copies.groupby(["operation", "threads"], sort=False):
        row = same.iloc[[0]].copy()
        row["seconds"] = same["seconds"].median()
        row["seconds_min"] = same["seconds_min"].min()
        row["seconds_max"] = same["seconds_max"].max()
        row["repeats"] = same["repeats"].sum()
        row["gbps"] = row["nbytes"] / row["seconds"] / GB
        row["spread"] = same["spread"].max()
        row["stable"] = same["stable"].astype(str).eq("True").all()
        row["others_busy"] = pd.to_numeric(same["others_busy"], errors="coerce").max()
        combined.append(row)
    frames[:0] = combined
    return pd.concat(frames, ignore_index=True)[COLUMNS]
