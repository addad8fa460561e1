"""The machine's own limits, measured in the same run as the stages they bound.

Memory bandwidths per thread count (copy, write-only, read-only; see `bandwidth`),
page-cache write, durable write (fsync) and warm/cold read bandwidths of the results'
file system, plus the machine and library versions the figures were measured with.

The cold read is read with O_DIRECT (the page cache bypassed) where the file system
allows it, else after posix_fadvise(DONTNEED). A "cold" read faster than half the warm
read is served by some cache (a VM host's, a RAID controller's): its `how` then starts
with CACHED and the summary uses it only as a reference, never as a bound.
"""

import errno
import mmap
import os
import platform
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

from outofcore.bandwidth import bandwidths_gbps
from outofcore.io_utils import OutputWriteError, owner_tag
from outofcore.timing import Timing, measure

MB = 1 << 20
CHUNK = 8 * MB  # bytes per write/read call: large enough to hide per-call costs
COLUMNS = ["name", "value", "unit", "how"]
CACHED = "CACHED"  # first word of a cold read's `how` when a cache served it
PROBE_HEADROOM = 16 * MB  # left free beside the disk probe: other jobs write too


def _write_file(path: Path, block: memoryview, nbytes: int, durable: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for _ in range(nbytes // len(block)):
            os.write(fd, block)
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def _read_file(path: Path, buffer: bytearray, cold: bool) -> int:
    with open(path, "rb", buffering=0) as handle:
        if cold:  # drop the file's clean pages from the cache: the read then hits the device
            os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        total, view = 0, memoryview(buffer)
        while n := handle.readinto(view):
            total += n
        return total


DIRECT_STREAMS = 4  # O_DIRECT readers in flight: as deep a queue as the kernel's readahead


def _read_range(fd: int, buffer: mmap.mmap, start: int, stop: int) -> int:
    total = 0
    while start + total < stop and (n := os.preadv(fd, [buffer], start + total)):
        total += n
    return total


def _read_direct(path: Path, buffers: list[mmap.mmap]) -> int:
    """Read the whole file with O_DIRECT (the page cache bypassed), one page-aligned
    buffer per stream, the streams reading their own parts of the file in parallel (one
    stream would leave the device idle between requests, where buffered reads keep
    readahead in flight). OSError(EINVAL) where the file system refuses O_DIRECT."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECT", 0))
    try:
        size = os.fstat(fd).st_size
        step = -(-size // len(buffers) // CHUNK) * CHUNK  # whole chunks per stream
        with ThreadPoolExecutor(len(buffers)) as pool:
            parts = [
                pool.submit(_read_range, fd, buffer, i * step, min(size, (i + 1) * step))
                for i, buffer in enumerate(buffers)
            ]
            return sum(part.result() for part in parts)
    finally:
        os.close(fd)


def direct_read_works(path: Path, buffer: mmap.mmap) -> bool:
    """Whether O_DIRECT reads of `path` work here (one read tried)."""
    if not hasattr(os, "O_DIRECT"):
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    except OSError as error:
        if error.errno in (errno.EINVAL, errno.EOPNOTSUPP):
            return False
        raise
    try:
        os.readv(fd, [buffer])
        return True
    except OSError as error:
        if error.errno in (errno.EINVAL, errno.EOPNOTSUPP):
            return False
        raise
    finally:
        os.close(fd)


def disk_timings(
    directory: str | Path, nbytes: int, repeats: int = 3, allow_direct: bool = True
) -> tuple[dict[str, Timing], bool]:
    """Write (page cache / durable) and read (warm / cold) timings of `nbytes` on a file
    system, and whether the cold read used O_DIRECT (never with allow_direct=False).

    Works on a scratch file in `directory`, removed afterwards.
    """
    nbytes = max(CHUNK, nbytes // CHUNK * CHUNK)
    block = memoryview(np.random.default_rng(0).integers(0, 256, CHUNK, dtype=np.uint8).tobytes())
    buffer = bytearray(CHUNK)
    path = Path(directory) / f".bandwidth-probe-{owner_tag()}"
    Path(directory).mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(directory).free
    if nbytes + PROBE_HEADROOM > free:
        raise OutputWriteError(
            f"not enough free disk space for the disk probe {path}: it writes {nbytes / MB:,.0f} MiB "
            f"(limits.disk_mb), {free / MB:,.0f} MiB free; lower limits.disk_mb or free some space"
        )
    try:
        timed: dict[str, Callable[[], object]] = {
            "page_cache_write": lambda: _write_file(path, block, nbytes, durable=False),
            "durable_write": lambda: _write_file(path, block, nbytes, durable=True),
        }
        # each write starts from no file: truncating the last one is not part of a write
        fresh = lambda: path.unlink(missing_ok=True)  # noqa: E731
        result = {name: measure(fn, repeats=repeats, min_time=0, setup=fresh) for name, fn in timed.items()}
        # reads: the file is complete and synced now; one read warms it
        _read_file(path, buffer, cold=False)
        result["warm_read"] = measure(lambda: _read_file(path, buffer, False), repeats=repeats, min_time=0)
        aligned = [mmap.mmap(-1, CHUNK) for _ in range(DIRECT_STREAMS)]  # page-aligned, as O_DIRECT needs
        direct = allow_direct and direct_read_works(path, aligned[0])
        cold = (lambda: _read_direct(path, aligned)) if direct else (lambda: _read_file(path, buffer, True))
        result["cold_read"] = measure(cold, repeats=repeats, min_time=0)
        return result, direct
    except OSError as error:  # the disk filled after the check (a shared disk): say which file
        raise OutputWriteError(f"could not write the disk probe {path}: {error}") from error
    finally:
        path.unlink(missing_ok=True)


def disk_gbps(directory: str | Path, nbytes: int, repeats: int = 3) -> dict[str, float]:
    """Write (page cache / durable) and read (warm / cold) bandwidths of a file system, GB/s."""
    nbytes = max(CHUNK, nbytes // CHUNK * CHUNK)
    timings, _ = disk_timings(directory, nbytes, repeats)
    return {name: timing.best_rate(nbytes) / 1e9 for name, timing in timings.items()}


def is_cached(cold_gbps: float, warm_gbps: float) -> bool:
    """A device read faster than half the page-cache read is served by a cache."""
    return cold_gbps > warm_gbps / 2


def thread_counts(cores: int, configured: Iterable[int] = ()) -> list[int]:
    """1, 2, 4, ... up to `cores`, `cores` itself, and every configured count."""
    counts, t = {cores, *configured}, 1
    while t < cores:
        counts.add(t)
        t *= 2
    return sorted(c for c in counts if c >= 1)


def sampled(timing: Timing) -> str:
    return f"fastest of {timing.repeats} samples (their spread {timing.spread:.0%})"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# Distribution names of every library a figure or the run depends on, as installed.
LIBRARIES = {
    "numpy": "numpy",
    "h5py": "h5py",
    "pytables": "tables",
    "blosc": "blosc",
    "blosc2": "blosc2",
    "hdf5plugin": "hdf5plugin",
    "zarr": "zarr",
    "numcodecs": "numcodecs",
    "dask": "dask",
    "numexpr": "numexpr",
    "pandas": "pandas",
    "matplotlib": "matplotlib",
    "psutil": "psutil",
    "pyarrow": "pyarrow",
    "duckdb": "duckdb",
    "polars": "polars",
    "snakemake": "snakemake",
}


def versions() -> dict[str, str]:
    """Versions of the interpreter, of HDF5 and of the libraries every figure depends on.

    A rule run in its own conda environment may lack a library it does not use: that
    version reads "not installed here"."""
    import h5py
    import tables

    found = {"python": platform.python_version(), "hdf5 (h5py)": h5py.version.hdf5_version,
             "hdf5 (pytables)": tables.hdf5_version}  # fmt: skip
    for name, distribution in LIBRARIES.items():
        try:
            found[name] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            found[name] = "not installed here"
    return found


def three_digits(value: float) -> float:
    """A measurement rounded to 3 significant digits: the timer and the load allow no more."""
    return float(f"{value:.3g}")


MEMORY_HOW = {
    "copy": "np.copyto of {mb} MiB into a preallocated array, split over {t} threads",
    "write": "fill of {mb} MiB (writes only), split over {t} threads",
    "read": "read of {mb} MiB in 1 MiB pieces into a cache-resident buffer (reads only), "
    "split over {t} threads",
}
DISK_HOW = {
    "page_cache_write": "os.write of {mb} MiB in 8 MiB calls, no fsync (lands in the page cache)",
    "durable_write": "os.write of {mb} MiB in 8 MiB calls, then fsync",
    "warm_read": "os.readinto of the same {mb} MiB file already in the page cache",
}
COLD_HOW = {
    True: "read of the same {mb} MiB file with O_DIRECT (page cache bypassed), 4 streams of 8 MiB reads",
    False: "os.readinto after posix_fadvise(DONTNEED) dropped the file's pages (no O_DIRECT here)",
}


def memory_rows(memcpy_mb: int, threads: Iterable[int], repeats: int) -> list[dict[str, Any]]:
    """copy_{T}t, write_{T}t, read_{T}t for every thread count, and `memcpy` (= copy_1t)."""
    rows = []
    for name, (gbps, timing) in sorted(bandwidths_gbps(list(threads), memcpy_mb * MB, repeats, 0.05).items()):
        kind, t = name.split("_")
        how = MEMORY_HOW[kind].format(mb=memcpy_mb, t=t[:-1])
        value = three_digits(gbps)
        rows.append({"name": name, "value": value, "unit": "GB/s", "how": f"{how}, {sampled(timing)}"})
        if name == "copy_1t":
            rows.append({"name": "memcpy", "value": value, "unit": "GB/s", "how": f"{how} (= copy_1t)"})
    return rows


def disk_rows(
    results_dir: str | Path, disk_mb: int, repeats: int, allow_direct: bool = True
) -> list[dict[str, Any]]:
    nbytes = max(CHUNK, disk_mb * MB // CHUNK * CHUNK)
    timings, direct = disk_timings(results_dir, nbytes, repeats, allow_direct)
    gbps = {name: timing.best_rate(nbytes) / 1e9 for name, timing in timings.items()}
    where = f"on {Path(results_dir).resolve()}"
    rows = []
    for name, timing in timings.items():
        how = (DISK_HOW.get(name) or COLD_HOW[direct]).format(mb=disk_mb)
        how = f"{how}, {where}, {sampled(timing)}"
        if name == "cold_read" and is_cached(gbps["cold_read"], gbps["warm_read"]):
            how = f"{CACHED} (faster than half the warm read: a cache served it, a reference only): {how}"
        rows.append({"name": name, "value": three_digits(gbps[name]), "unit": "GB/s", "how": how})
    return rows


def measure_limits(
    results_dir: str | Path,
    memcpy_mb: int,
    disk_mb: int,
    repeats: int,
    threads: Iterable[int] = (1,),
) -> pd.DataFrame:
    """All limits as rows name,value,unit,how; memory bandwidths for every count in `threads`."""
    rows = memory_rows(memcpy_mb, threads, repeats) + disk_rows(results_dir, disk_mb, repeats)
    rows.append({"name": "cores", "value": os.cpu_count(), "unit": "count", "how": "os.cpu_count()"})
    rows.append(
        {
            "name": "memory",
            "value": three_digits(psutil.virtual_memory().total / 2**30),
            "unit": "GiB",
            "how": "psutil.virtual_memory().total",
        }
    )
    rows.append({"name": "cpu_model", "value": cpu_model(), "unit": "text", "how": "/proc/cpuinfo"})
    rows += [
        {"name": f"version {lib}", "value": version, "unit": "version", "how": "installed package"}
        for lib, version in versions().items()
    ]
    return pd.DataFrame(rows, columns=COLUMNS)
