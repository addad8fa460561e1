"""The machine's own limits, measured in the same run as the stages they bound.

Memory copy bandwidth (np.copyto into a preallocated array, far larger than the caches),
page-cache write, durable write (fsync) and warm/cold read bandwidths of the results'
file system, plus the machine and library versions the figures were measured with.
"""

import os
import platform
import shutil
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

from outofcore.bandwidth import memcpy_gbps
from outofcore.io_utils import OutputWriteError, owner_tag
from outofcore.timing import measure

MB = 1 << 20
CHUNK = 8 * MB  # bytes per write/read call: large enough to hide per-call costs
COLUMNS = ["name", "value", "unit", "how"]
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


def disk_gbps(directory: str | Path, nbytes: int, repeats: int = 3) -> dict[str, float]:
    """Write (page cache / durable) and read (warm / cold) bandwidths of a file system, GB/s.

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
        result = {
            name: measure(fn, repeats=repeats, min_time=0, setup=fresh).rate(nbytes) / 1e9
            for name, fn in timed.items()
        }
        # reads: the file is complete and synced now; one read warms it
        _read_file(path, buffer, cold=False)
        for name, cold in (("warm_read", False), ("cold_read", True)):
            read = measure(lambda cold=cold: _read_file(path, buffer, cold), repeats=repeats, min_time=0)
            result[name] = read.rate(nbytes) / 1e9
        return result
    except OSError as error:  # the disk filled after the check (a shared disk): say which file
        raise OutputWriteError(f"could not write the disk probe {path}: {error}") from error
    finally:
        path.unlink(missing_ok=True)


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


def measure_limits(results_dir: str | Path, memcpy_mb: int, disk_mb: int, repeats: int) -> pd.DataFrame:
    """All limits as rows name,value,unit,how."""
    rows: list[dict[str, Any]] = []
    copy = memcpy_gbps(memcpy_mb * MB, repeats, min_time=0.05)
    rows.append(
        {
            "name": "memcpy",
            "value": three_digits(copy),
            "unit": "GB/s",
            "how": f"np.copyto of {memcpy_mb} MiB into a preallocated array, median of {repeats}",
        }
    )
    how = {
        "page_cache_write": "os.write of {mb} MiB in 8 MiB calls, no fsync (lands in the page cache)",
        "durable_write": "os.write of {mb} MiB in 8 MiB calls, then fsync",
        "warm_read": "os.readinto of the same {mb} MiB file already in the page cache",
        "cold_read": "os.readinto after posix_fadvise(DONTNEED) dropped the file's pages",
    }
    for name, value in disk_gbps(results_dir, disk_mb * MB, repeats).items():
        rows.append(
            {
                "name": name,
                "value": three_digits(value),
                "unit": "GB/s",
                "how": how[name].format(mb=disk_mb)
                + f", on {Path(results_dir).resolve()}, median of {repeats}",
            }
        )
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
