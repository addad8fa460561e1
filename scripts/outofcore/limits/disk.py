"""The results' file system's own limits: page-cache and durable (fsync) writes, warm
(page cache) and cold (device) reads of one scratch file.

A cold read can reach the device three ways, and which is fastest depends on the device
and the kernel (readahead window, queue depth, a VM's virtual disk): O_DIRECT reads in
parallel streams (the page cache bypassed), buffered `readinto` after the file's pages
were dropped (posix_fadvise DONTNEED, then SEQUENTIAL: the kernel's readahead doubled),
and a sequential walk of an mmap of the evicted file (what a memmap reduce does, without
its arithmetic). Each is measured; `cold_read` is the fastest: a bound must not be beaten
by a stage that merely read the disk another way.
"""

import errno
import mmap
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from outofcore.core.files import OutputWriteError, owner_tag
from outofcore.core.timing import Timing, measure
from outofcore.plan.units import GB, MiB

CHUNK = 8 * MiB  # bytes per write/read call: large enough to hide per-call costs
DIRECT_CHUNK = 16 * MiB  # bytes per O_DIRECT read: fewer, larger requests keep the device busy
DIRECT_STREAMS = 8  # O_DIRECT readers in flight: a deeper queue than one reader's
PAGE = mmap.PAGESIZE
PROBE_HEADROOM = 16 * MiB  # left free beside the disk probe: other jobs write too
COLD_WAYS = ("cold_read_direct", "cold_read_buffered", "cold_read_mmap")


def _write_file(path: Path, block: memoryview, nbytes: int, durable: bool) -> None:
    # A new file each time (O_EXCL, O_NOFOLLOW): a link planted at the probe's name is
    # removed, never written through.
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        for _ in range(nbytes // len(block)):
            os.write(fd, block)
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def _evict(fd: int) -> None:
    """Drop the file's clean pages from the page cache: the next read hits the device."""
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def _read_file(path: Path, buffer: bytearray, cold: bool) -> int:
    with open(path, "rb", buffering=0) as handle:
        if cold:
            _evict(handle.fileno())
            os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        total, view = 0, memoryview(buffer)
        while n := handle.readinto(view):
            total += n
        return total


def _read_mapped(path: Path) -> int:
    """Touch every page of an mmap of the evicted file, in order: the device read as a
    memmap sees it (page faults and the kernel's readahead), no arithmetic on the values."""
    with open(path, "rb") as handle:
        _evict(handle.fileno())
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            mapped.madvise(mmap.MADV_SEQUENTIAL)
            pages = np.frombuffer(mapped, dtype=np.uint8)[::PAGE]
            int(pages.sum(dtype=np.uint64))  # one byte read per page: every page faulted in
            del pages
            return len(mapped)
        finally:
            mapped.close()


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
        size, chunk = os.fstat(fd).st_size, len(buffers[0])
        step = -(-size // len(buffers) // chunk) * chunk  # whole chunks per stream
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


def cold_reads(path: Path, repeats: int, allow_direct: bool = True) -> dict[str, Timing]:
    """Timings of every way of reading `path` from the device (`COLD_WAYS`); without
    O_DIRECT (refused by the file system, or allow_direct=False) only the other two."""
    buffer = bytearray(CHUNK)
    ways: dict[str, Callable[[], object]] = {
        "cold_read_buffered": lambda: _read_file(path, buffer, cold=True),
        "cold_read_mmap": lambda: _read_mapped(path),
    }
    aligned = [mmap.mmap(-1, DIRECT_CHUNK) for _ in range(DIRECT_STREAMS)]  # page-aligned, as O_DIRECT needs
    if allow_direct and direct_read_works(path, aligned[0]):
        ways = {"cold_read_direct": lambda: _read_direct(path, aligned), **ways}
    return {name: measure(read, repeats=repeats, min_time=0) for name, read in ways.items()}


def fastest(timings: dict[str, Timing]) -> str:
    """The name of the timing with the fastest sample (the same amount read by each)."""
    return min(timings, key=lambda name: timings[name].seconds_min)


def disk_timings(
    directory: str | Path, nbytes: int, repeats: int = 3, allow_direct: bool = True
) -> dict[str, Timing]:
    """Write (page cache / durable) and read (warm / each cold way / `cold_read`, the
    fastest cold way) timings of `nbytes` on a file system.

    Works on a scratch file in `directory`, removed afterwards.
    """
    nbytes = max(CHUNK, nbytes // CHUNK * CHUNK)
    block = memoryview(np.random.default_rng(0).integers(0, 256, CHUNK, dtype=np.uint8).tobytes())
    path = Path(directory) / f".bandwidth-probe-{owner_tag()}"
    Path(directory).mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(directory).free
    if nbytes + PROBE_HEADROOM > free:
        raise OutputWriteError(
            f"not enough free disk space for the disk probe {path}: it writes {nbytes / MiB:,.0f} MiB "
            f"(limits.disk_mb), {free / MiB:,.0f} MiB free; lower limits.disk_mb or free some space"
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
        buffer = bytearray(CHUNK)
        _read_file(path, buffer, cold=False)
        result["warm_read"] = measure(lambda: _read_file(path, buffer, False), repeats=repeats, min_time=0)
        cold = cold_reads(path, repeats, allow_direct)
        return {**result, **cold, "cold_read": cold[fastest(cold)]}
    except OSError as error:  # the disk filled after the check (a shared disk): say which file
        raise OutputWriteError(f"could not write the disk probe {path}: {error}") from error
    finally:
        path.unlink(missing_ok=True)


def disk_gbps(directory: str | Path, nbytes: int, repeats: int = 3) -> dict[str, float]:
    """Write (page cache / durable) and read (warm / cold) bandwidths of a file system, GB/s."""
    nbytes = max(CHUNK, nbytes // CHUNK * CHUNK)
    timings = disk_timings(directory, nbytes, repeats)
    return {name: timing.best_rate(nbytes) / GB for name, timing in timings.items()}


def is_cached(cold_gbps: float, warm_gbps: float) -> bool:
    """A device read faster than half the page-cache read is served by a cache."""
    return cold_gbps > warm_gbps / 2
