"""The machine's own limits, measured in the same run as the stages they bound.

Memory bandwidths per thread count (copy, write-only, read-only; see `bandwidth`),
page-cache write, durable write (fsync) and warm/cold read bandwidths of the results'
file system, plus the machine and library versions the figures were measured with.

The disk figures come from `disk_limits`; `cold_read` is the fastest of its ways to read
the device. A "cold" read faster than half the warm read is served by some cache (a VM
host's, a RAID controller's): its `how` then starts with CACHED and the summary uses it
only as a reference, never as a bound.
"""

import os
import platform
import socket
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import psutil

from outofcore.core.timing import Timing
from outofcore.limits.disk import (
    CHUNK,
    DIRECT_CHUNK,
    DIRECT_STREAMS,
    disk_timings,
    fastest,
    is_cached,
)
from outofcore.limits.memory import bandwidths_gbps
from outofcore.limits.registry import LIMITS, get_limit, row
from outofcore.plan.units import GB, GiB, MiB

COLUMNS = ["name", "value", "unit", "how"]
HOST = "host"  # the row naming the node the limits were measured on
MACHINE = "machine"  # the row naming the machine (kernel boot id): nodes sharing one have the same
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
CACHED = "CACHED"  # first word of a cold read's `how` when a cache served it


def thread_counts(cores: int, configured: Iterable[int] = ()) -> list[int]:
    """1, 2, 4, ... up to `cores`, `cores` itself, and every configured count."""
    counts, t = {cores, *configured}, 1
    while t < cores:
        counts.add(t)
        t *= 2
    return sorted(c for c in counts if c >= 1)


def this_host() -> str:
    return socket.gethostname()


def this_machine() -> str:
    """The running kernel's boot id: two nodes (slurmd, containers) that report the same one
    run on one machine and share its disks, memory and cores ("" where there is none)."""
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return ""


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


# The `how` of each row, from the limit registry (its single description of each limit).
MEMORY_HOW = {kind: LIMITS[f"{kind}_{{T}}t"].how for kind in ("copy", "write", "read")}
DISK_HOW = {name: LIMITS[name].how for name in ("page_cache_write", "durable_write", "warm_read")}
COLD_HOW = {
    name: LIMITS[name].how.format(mb="{mb}", streams=DIRECT_STREAMS, chunk_mb=DIRECT_CHUNK // MiB)
    for name in ("cold_read_direct", "cold_read_buffered", "cold_read_mmap")
}


def memory_rows(memcpy_mb: int, threads: Iterable[int], repeats: int) -> list[dict[str, Any]]:
    """copy_{T}t, write_{T}t, read_{T}t for every thread count, and `memcpy` (= copy_1t)."""
    rows = []
    for name, (gbps, timing) in sorted(
        bandwidths_gbps(list(threads), memcpy_mb * MiB, repeats, 0.05).items()
    ):
        kind, t = name.split("_")
        count = int(t[:-1])
        how = MEMORY_HOW[kind].format(mb=memcpy_mb, threads=f"{count} thread{'s' if count > 1 else ''}")
        value = three_digits(gbps)
        unit = get_limit(name).unit
        rows.append({"name": name, "value": value, "unit": unit, "how": f"{how}, {sampled(timing)}"})
        if name == "copy_1t":
            rows.append(row("memcpy", value, mb=memcpy_mb, threads="1 thread"))
    return rows


def disk_rows(
    results_dir: str | Path, disk_mb: int, repeats: int, allow_direct: bool = True
) -> list[dict[str, Any]]:
    """Rows of the disk limits; `cold_read` names the cold way it took its value from."""
    nbytes = max(CHUNK, disk_mb * MiB // CHUNK * CHUNK)
    timings = disk_timings(results_dir, nbytes, repeats, allow_direct)
    gbps = {name: timing.best_rate(nbytes) / GB for name, timing in timings.items()}
    where = f"on {Path(results_dir).resolve()}"
    ways = {name: timing for name, timing in timings.items() if name in COLD_HOW}
    best = fastest(ways)
    rows = []
    for name, timing in timings.items():
        if name == "cold_read":
            others = ", ".join(f"{way} {gbps[way]:.3g}" for way in ways if way != best)
            how = f"fastest device read ({best}): {COLD_HOW[best]}; the others: {others} GB/s"
        else:
            how = (DISK_HOW.get(name) or COLD_HOW[name]).format(mb=disk_mb)
        how = f"{how.format(mb=disk_mb)}, {where}, {sampled(timing)}"
        if name == "cold_read" and is_cached(gbps["cold_read"], gbps["warm_read"]):
            how = f"{CACHED} (faster than half the warm read: a cache served it, a reference only): {how}"
        rows.append(
            {"name": name, "value": three_digits(gbps[name]), "unit": get_limit(name).unit, "how": how}
        )
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
    rows.append(row("cores", os.cpu_count()))
    rows.append(row("memory", three_digits(psutil.virtual_memory().total / GiB)))
    rows.append(row("cpu_model", cpu_model()))
    rows.append(row(HOST, this_host()))
    rows.append(row(MACHINE, this_machine()))
    rows += [row(f"version {lib}", version) for lib, version in versions().items()]
    return pd.DataFrame(rows, columns=COLUMNS)
