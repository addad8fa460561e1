"""One timed job at a time on a machine, across every run that shares `results/`.

Within one run, Snakemake's `timing_lock` resource keeps timed jobs apart. Two runs in
one directory with disjoint targets both start (Snakemake locks output files, not the
directory), and so would time their jobs on shared cores. Every timed job therefore
also holds an OS lock (`fcntl.flock`, released by the kernel when the process ends,
even when killed) on `results/.timing-lock-HOST`: a second one waits for the first,
and says so in its log. The lock file is opened without following a symlink, and only
if it is a regular file of its own (`open_own`): a link planted at its name is refused,
never written through. The lock file is per host: jobs of a cluster run on other nodes
have cores of their own and do not wait for each other.
"""

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from outofcore.core.files import open_own


def lock_path(results: str | Path = "results") -> Path:
    return Path(results) / f".timing-lock-{socket.gethostname()}"


@contextmanager
def timed_job(name: str, log: Any, results: str | Path = "results") -> Iterator[None]:
    """Hold the machine's timing lock while the block runs; wait for it if taken."""
    path = lock_path(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = open_own(path)  # a symlink or hard link planted at its name is refused, not followed
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
            log.info("waiting for the timing lock %s, held by %s", path, holder or "another job")
            started = time.monotonic()
            fcntl.flock(fd, fcntl.LOCK_EX)
            log.info("timing lock %s taken after %.1f s", path, time.monotonic() - started)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{name} (pid {os.getpid()})\n".encode(), 0)  # who holds it, for the log above
        log.info("timing lock %s taken: %s", path, time.strftime("%Y-%m-%dT%H:%M:%S"))
        yield
        log.info("timing lock %s released: %s", path, time.strftime("%Y-%m-%dT%H:%M:%S"))
    finally:
        os.close(fd)  # releases the lock
