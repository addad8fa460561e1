"""The machine limits by name: one `Limit` per row kind of limits.csv, with its unit, how
it is measured, its label in the summary and the stages whose figures it bounds.

The limits job writes its rows' units and `how` from here (`outofcore.limits.machine`); the
summary labels each limit from here, and refuses a headline figure set against a limit
that does not name its stage in `bounds` (a limit bounds what it was chosen for). A
bandwidth measured per thread count is one entry with `{T}` in its name (`copy_{T}t`).
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    name: str  # the row of limits.csv; `{T}`: a thread count, `{lib}`: a library
    unit: str
    label: str  # in the summary's `limit` column; `{T}`, `{s}` and `{name}` filled in
    how: str  # the `how` column: `{mb}` (MiB measured) and `{threads}` filled in by the job
    bounds: tuple[str, ...] = ()  # stages whose headline figures it bounds (or is read against)
    figures: str = ""  # those figures, in words
    stored_bytes: bool = False  # a disk rate: it counts stored bytes, not uncompressed ones


_MEMORY = "split over {threads}"
LIMITS: dict[str, Limit] = {
    entry.name: entry
    for entry in (
        Limit("copy_{T}t", "GB/s", "memory copy, {T} thread{s} ({name})",
              "np.copyto of {mb} MiB into a preallocated array, " + _MEMORY, ("hugearray",),
              "compressed data read or written on T threads: min(disk rate x ratio, copy_{T}t)"),
        Limit("write_{T}t", "GB/s", "memory write, {T} thread{s} ({name})",
              "fill of {mb} MiB (writes only), " + _MEMORY, ("blosc",),
              "decompression on T threads (it writes the uncompressed bytes)"),
        Limit("read_{T}t", "GB/s", "memory read, {T} thread{s} ({name})",
              "read of {mb} MiB in 1 MiB pieces into a cache-resident buffer (reads only), " + _MEMORY,
              ("blosc",), "compression on T threads (it reads the uncompressed bytes)"),
        Limit("memcpy", "GB/s", "memory copy (np.copyto, 1 thread)",
              "np.copyto of {mb} MiB into a preallocated array, " + _MEMORY + " (= copy_1t)", ("blosc",),
              "the blosc figures' ceiling line"),
        Limit("page_cache_write", "GB/s", "page-cache write",
              "os.write of {mb} MiB in 8 MiB calls, no fsync (lands in the page cache)",
              ("particles", "hugearray"), "a write that does not fsync", stored_bytes=True),
        Limit("durable_write", "GB/s", "durable write (fsync)",
              "os.write of {mb} MiB in 8 MiB calls, then fsync", ("hugearray",),
              "the huge array's writes (fsync included)", stored_bytes=True),
        Limit("warm_read", "GB/s", "warm read (page cache)",
              "os.readinto of the same {mb} MiB file already in the page cache", ("particles", "hugearray"),
              "scans of a file in the page cache: the particle queries, a warm reduce", stored_bytes=True),
        Limit("cold_read", "GB/s", "cold read (device)",
              "fastest device read of cold_read_direct, cold_read_buffered, cold_read_mmap", ("hugearray",),
              "the huge array's reduce from disk", stored_bytes=True),
        Limit("cold_read_direct", "GB/s", "cold read, O_DIRECT",
              "read of the same {mb} MiB file with O_DIRECT (page cache bypassed), "
              "{streams} streams of {chunk_mb} MiB reads"),
        Limit("cold_read_buffered", "GB/s", "cold read, buffered",
              "os.readinto in 8 MiB calls after posix_fadvise(DONTNEED) dropped the "
              "same {mb} MiB file's pages (then SEQUENTIAL: readahead doubled)"),
        Limit("cold_read_mmap", "GB/s", "cold read, mmap",
              "sequential walk (one byte a page) of an mmap of the same {mb} MiB file "
              "after posix_fadvise(DONTNEED), madvise(SEQUENTIAL)"),
        Limit("cores", "count", "cores", "os.cpu_count()"),
        Limit("memory", "GiB", "memory", "psutil.virtual_memory().total"),
        Limit("cpu_model", "text", "CPU model", "/proc/cpuinfo"),
        Limit("host", "text", "node", "socket.gethostname()"),
        Limit("machine", "text", "machine", "the running kernel's boot id (/proc/sys/kernel/random/boot_id): "
              "nodes with the same one are one machine, sharing its disks, memory and cores"),
        Limit("version {lib}", "version", "version of {lib}", "installed package"),
        Limit("others_busy", "share", "others busy",
              "share of the cores other processes kept busy while the limits were measured (psutil)"),
    )
}  # fmt: skip


def _pattern(name: str) -> re.Pattern[str]:
    text = (
        re.escape(name).replace(re.escape("{T}"), r"(?P<T>\d+)").replace(re.escape("{lib}"), r"(?P<lib>.+)")
    )
    return re.compile(text)


_PATTERNS = {name: _pattern(name) for name in LIMITS}


def match(name: str) -> tuple[Limit, dict[str, str]] | None:
    """The entry a row name of limits.csv is of, and what its `{T}` or `{lib}` stood for."""
    for key, pattern in _PATTERNS.items():
        found = pattern.fullmatch(name)
        if found:
            return LIMITS[key], found.groupdict()
    return None


def get_limit(name: str) -> Limit:
    found = match(name)
    if found is None:
        raise ValueError(f"limit {name!r} is not in outofcore.limits.registry")
    return found[0]


def label(name: str) -> str:
    """The limit in words, for the summary (a name the registry does not know: itself)."""
    found = match(name)
    if found is None:
        return name
    entry, parts = found
    threads = int(parts.get("T", 1))
    return entry.label.format(T=threads, s="s" if threads > 1 else "", name=name, lib=parts.get("lib", ""))


def check_bounds(stage: str, name: str) -> None:
    """ValueError unless the registered limit `name` names `stage` among those it bounds."""
    found = match(name)
    if found is not None and stage not in found[0].bounds:
        bounds = ", ".join(found[0].bounds) or "no stage"
        raise ValueError(
            f"limit {name} is registered to bound {bounds}, not {stage} (outofcore.limits.registry)"
        )


def row(name: str, value: object, **how: object) -> dict[str, object]:
    """A row of limits.csv: the entry's unit and its `how` with `how` filled in."""
    entry = get_limit(name)
    return {"name": name, "value": value, "unit": entry.unit, "how": entry.how.format(**how)}
