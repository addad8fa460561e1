"""The tutorial's steps 3-4: blosc compression of `np.linspace(0, 100, n)` across sizes.

One job sweeps one (method, codec): every configured size and thread count, compression
and decompression, timed by `timing.measure_interleaved` (autoranged samples in rounds
over the points of one size, median and spread reported) and each round trip checked
equal to the input. The job also measures the machine's memory bandwidths (copy, write,
read) over each of its thread counts, so every throughput has its ceiling measured on
the same machine (the same node, on a cluster).

Methods:
- `pack_array`: the tutorial's `blosc.pack_array` / `unpack_array` (pickle inside: the
  baseline only, never used to read bytes back);
- `compress_ptr`: python-blosc's `compress_ptr` / `decompress_ptr` into a reused array;
- `blosc2`: python-blosc2's `compress` / `decompress(dst=...)` into a reused array.
The last two are `safe_blosc`'s pickle-free path: the array's dtype and shape are kept
apart from the bytes. Every method uses the configured clevel with byte shuffle, so
pack_array differs from compress_ptr/blosclz only by its pickle and copies.
"""

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import blosc
import blosc2
import numpy as np
import pandas as pd

from outofcore.bandwidth import CACHE_LEAVING_BYTES, GB, KINDS, bandwidth_timings
from outofcore.safe_blosc import CODECS, blosc_threads, compress, decompress_into
from outofcore.timing import Point, Timing, measure_interleaved

METHODS = ("pack_array", "compress_ptr", "blosc2")
SAFE_FORMAT = {"compress_ptr": "blosc1", "blosc2": "blosc2"}  # method -> safe_blosc format
MEMCPY = "memcpy"  # method of the memory-bandwidth rows (operation copy/write/read, codec NO_CODEC)
NO_CODEC = "none"


class RoundTripError(AssertionError):
    """A decompressed array differs from the array that was compressed."""


def seed_array(size: int) -> np.ndarray:
    """The tutorial's data: `size` float64 values evenly spaced from 0 to 100."""
    return np.linspace(0, 100, size)


def check_round_trip(original: np.ndarray, restored: np.ndarray, label: str) -> None:
    if restored.dtype != original.dtype or restored.shape != original.shape:
        raise RoundTripError(
            f"{label}: got {restored.dtype}{restored.shape}, expected {original.dtype}{original.shape}"
        )
    if not np.array_equal(restored, original):
        raise RoundTripError(f"{label}: decompressed values differ from the input")


def round_trip_calls(
    method: str, codec: str, clevel: int, array: np.ndarray, out: np.ndarray | None
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

    def pack_safe() -> None:
        last["bytes"] = compress(array, fmt, codec, clevel)

    def unpack_safe() -> None:
        decompress_into(last["bytes"], fmt, out)

    return pack_safe, unpack_safe, lambda: out, lambda: len(last["bytes"])


@dataclass(frozen=True)
class SweepRow:
    """One line of the sweep table: `size` float64; throughputs count uncompressed bytes."""

    method: str
    codec: str
    threads: int
    size: int  # float64 elements
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
    others_busy: float = float("nan")  # share of the cores other processes kept busy meanwhile

    @classmethod
    def of(
        cls, method: str, codec: str, threads: int, size: int, operation: str, timing: Timing, compressed: int
    ) -> "SweepRow":
        nbytes = 8 * size
        return cls(
            method=method,
            codec=codec,
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
) -> list[SweepRow]:
    """The compress and decompress rows of one size at every thread count.

    All (threads, operation) points of the size are sampled in interleaved rounds; the
    thread count is set before each sample, outside the timed region. Each thread
    count's decompression is then checked once more on a zeroed output.
    """
    out = None if method == "pack_array" else np.empty_like(array)
    pack, unpack, result, compressed = round_trip_calls(method, codec, clevel, array, out)
    with blosc_threads(max(threads)):
        pack()  # the bytes the first decompression reads
        points = {}
        for count in threads:
            ready = lambda count=count: set_threads(count)  # noqa: E731
            points[count, "compress"] = Point(pack, ready, min_time)
            points[count, "decompress"] = Point(unpack, ready, min_time)
        timings = measure_interleaved(points, repeats)
        for count in threads:
            set_threads(count)
            if out is not None:
                out.fill(0)  # a decompression that wrote nothing cannot pass the check
            unpack()
            check_round_trip(array, result(), f"{method}/{codec}, {count} threads, n={array.size}")
    size = compressed()
    return [
        SweepRow.of(method, codec, count, array.size, operation, timings[count, operation], size)
        for count in threads
        for operation in ("compress", "decompress")
    ]


def bandwidth_rows(threads: Sequence[int], size: int, repeats: int, min_time: float) -> list[SweepRow]:
    """The memory bandwidths (copy, write, read) over `size` float64 at every thread count."""
    timings = bandwidth_timings(threads, 8 * size, repeats, min_time)
    return [
        SweepRow.of(MEMCPY, NO_CODEC, count, size, kind, timings[kind, count], 8 * size)
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
) -> pd.DataFrame:
    """Every size x thread count of one (method, codec), after the bandwidth rows.

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
    for size in sorted(sizes):
        array = seed_array(size)
        point = measure_size(method, codec, clevel, threads, array, repeats, min_time)
        for pack, unpack in zip(point[::2], point[1::2], strict=True):
            log(
                f"{method}/{codec} n={size} threads={pack.threads}: ratio {pack.ratio:.2f}, "
                f"compress {pack.gbps:.3f} GB/s (spread {pack.spread:.0%}), "
                f"decompress {unpack.gbps:.3f} GB/s (spread {unpack.spread:.0%})"
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
    key = ["method", "codec", "threads", "size", "operation"]
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
