"""The tutorial's steps 3-4: blosc compression of a data source across sizes.

The tutorial compressed `np.linspace(0, 100, n)`; the source here is any of
`outofcore.data_sources` (linspace by default), with its own dtype.
One job sweeps one (data, method, codec): every configured size and thread count (and,
for blosc2, every filter pipeline of `outofcore.blosc_filters`), compression
and decompression, each timed by `timing.measure` (autoranged samples, median reported)
and each round trip checked equal to the input. The job also measures the machine's
memory-copy bandwidth, so every throughput has its ceiling measured on the same machine.

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
import numpy as np
import pandas as pd

from outofcore import blosc_filters
from outofcore.bandwidth import CACHE_LEAVING_BYTES, GB, memcpy_timing
from outofcore.data_sources import Source, generator
from outofcore.safe_blosc import CODECS, blosc_threads, compress, decompress_into
from outofcore.timing import Timing, measure

METHODS = ("pack_array", "compress_ptr", "blosc2")
SAFE_FORMAT = {"compress_ptr": "blosc1", "blosc2": "blosc2"}  # method -> safe_blosc format
MEMCPY = "memcpy"  # method and operation of the memory-copy rows, whose codec is NO_CODEC
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
    """Exact equality, or for a lossy pipeline keeping `bits` mantissa bits, every value
    within its relative bound; returns the largest absolute error (0 when exact)."""
    if restored.dtype != original.dtype or restored.shape != original.shape:
        raise RoundTripError(
            f"{label}: got {restored.dtype}{restored.shape}, expected {original.dtype}{original.shape}"
        )
    if bits is None:
        if not np.array_equal(restored, original, equal_nan=original.dtype.kind in "fc"):
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
    operation: str  # "compress", "decompress" or "memcpy"
    seconds: float  # median seconds per call
    seconds_min: float
    seconds_max: float
    repeats: int
    compressed_nbytes: int
    ratio: float
    gbps: float  # uncompressed GB (10**9 bytes) per second
    dtype: str = "float64"
    max_error: float = 0.0  # largest absolute error of the round trip (lossy filters only)

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
            dtype=str(dtype),
            max_error=max_error,
        )


COLUMNS = [field.name for field in fields(SweepRow)]


def sweep_frame(rows: Sequence[SweepRow]) -> pd.DataFrame:
    """The rows as a table with the CSV's columns, in field order."""
    return pd.DataFrame([asdict(row) for row in rows], columns=COLUMNS)


def measure_point(
    method: str,
    codec: str,
    clevel: int,
    threads: int,
    array: np.ndarray,
    out: np.ndarray | None,
    repeats: int,
    min_time: float,
    data: str = DEFAULT_DATA,
    pipeline: blosc_filters.Pipeline | None = None,
) -> list[SweepRow]:
    """The compress and decompress rows of one (data, method, codec, filters, threads, size) point."""
    pack, unpack, result, compressed = round_trip_calls(method, codec, clevel, array, out, pipeline)
    with blosc_threads(threads):
        packing = measure(pack, repeats, min_time)
        if out is not None:
            out.fill(0)  # a decompression that wrote nothing cannot pass the check
        unpacking = measure(unpack, repeats, min_time)
    filters = pipeline.name if pipeline is not None else blosc_filters.DEFAULT
    label = f"{data} {method}/{codec}/{filters}, {threads} threads, n={array.size}"
    error = check_round_trip(array, result(), label, pipeline.bits if pipeline else None)
    size = compressed()
    more = {"data": data, "filters": filters, "dtype": array.dtype, "max_error": error}
    return [
        SweepRow.of(method, codec, threads, array.size, "compress", packing, size, **more),
        SweepRow.of(method, codec, threads, array.size, "decompress", unpacking, size, **more),
    ]


def memcpy_row(size: int, repeats: int, min_time: float) -> SweepRow:
    """The memory-copy bandwidth over `size` float64 as a row of the sweep (np.copyto, one thread)."""
    timing = memcpy_timing(8 * size, repeats, min_time)
    return SweepRow.of(MEMCPY, NO_CODEC, 1, size, MEMCPY, timing, 8 * size, data=NO_CODEC, filters=NO_CODEC)


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
    codec) on `source` (default the tutorial's linspace), plus one memcpy row first.

    The memcpy copies `memcpy_size` float64, by default the largest array but at least
    CACHE_LEAVING_BYTES, so that it measures main memory, not a cache.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r} (known: {', '.join(METHODS)})")
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r} (known: {', '.join(CODECS)})")
    memcpy_size = memcpy_size or max(max(sizes), CACHE_LEAVING_BYTES // 8)
    memcpy = memcpy_row(memcpy_size, repeats, min_time)
    log(f"memcpy: {memcpy.gbps:.2f} GB/s over {memcpy.nbytes} bytes")
    rows = [memcpy]
    source = source or generator(DEFAULT_DATA, 0)
    pipelines = [blosc_filters.parse(name) for name in (filters if method == "blosc2" else [])] or [None]
    for pipeline in pipelines:
        if pipeline is not None and not pipeline.applies_to(source.dtype):
            log(f"{pipeline.name}: not applicable to {source.dtype} data, skipped")
    pipelines = [p for p in pipelines if p is None or p.applies_to(source.dtype)]
    for size in sorted(sizes):
        array = source.array(size)
        out = None if method == "pack_array" else np.empty_like(array)
        for pipeline, count in ((p, c) for p in pipelines for c in threads):
            point = measure_point(
                method, codec, clevel, count, array, out, repeats, min_time, source.label, pipeline
            )
            log(
                f"{source.label} {method}/{codec}/{point[0].filters} n={size} threads={count}: "
                f"ratio {point[0].ratio:.2f}, compress {point[0].gbps:.3f} GB/s, "
                f"decompress {point[1].gbps:.3f} GB/s, max error {point[0].max_error:g}"
            )
            rows += point
        del array, out  # the next size's arrays are allocated after these are freed
    return sweep_frame(rows)


def collect(parts: Sequence[str | Path]) -> pd.DataFrame:
    """The sweep table of all jobs: one memcpy row combining theirs, then their rows.

    Every job measured memcpy once (same size); the combined row has the median of the
    jobs' medians, the extremes of all samples and the number of samples.
    """
    table = pd.concat([pd.read_csv(path, keep_default_na=False) for path in parts], ignore_index=True)
    copies = table[table["method"] == MEMCPY]
    rows = table[table["method"] != MEMCPY]
    key = ["data", "method", "codec", "filters", "threads", "size", "operation"]
    duplicated = rows[rows.duplicated(key, keep=False)]
    if len(duplicated):
        raise ValueError(f"the parts measure some points twice:\n{duplicated[key]}")
    frames = [rows.sort_values(key, kind="stable")]
    if len(copies):
        combined = copies.iloc[[0]].copy()
        combined["seconds"] = copies["seconds"].median()
        combined["seconds_min"] = copies["seconds_min"].min()
        combined["seconds_max"] = copies["seconds_max"].max()
        combined["repeats"] = copies["repeats"].sum()
        combined["gbps"] = combined["nbytes"] / combined["seconds"] / GB
        frames.insert(0, combined)
    return pd.concat(frames, ignore_index=True)[COLUMNS]
