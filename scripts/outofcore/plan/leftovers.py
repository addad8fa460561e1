"""Leftovers of killed jobs, removed when a run starts (Snakemake's `onstart`, which runs
under the run's lock, never on a dry run).

A job writes its outputs under hidden partial names (`.NAME.partial-HOST-PID`,
`outofcore.core.files.atomic_output`), the limits job a disk probe
(`.bandwidth-probe-HOST-PID`) and the particle job a scratch directory
(`.scratch-HOST-PID`). A job removes its own when it ends, and a rerun of the same job
removes those of its output; one killed whose config then changed (another size) would
leave its partial forever. Snakemake's lock covers a run's outputs, not the directory,
so another run may be writing its own partials right now: only leftovers of a process
of this host that no longer exists are removed. Leftovers of another host (a cluster
node) are left to the rerun of their job.
"""

import os
import shutil
import socket
from pathlib import Path

# the hidden names the jobs write, each followed by HOST-PID
MARKERS = (".partial-", ".bandwidth-probe-", ".scratch-")


def owner(name: str) -> tuple[str, int] | None:
    """(host, pid) of a leftover's name, None if the name is not one of a job's scratch
    names. Names without a host (an older version's) count as this host's."""
    if not name.startswith("."):
        return None
    for marker in MARKERS:
        head, found, tag = name.rpartition(marker)
        if found and (head or marker != ".partial-"):
            host, _, pid = tag.rpartition("-")
            return (host or socket.gethostname(), int(pid)) if pid.isdigit() else None
    return None


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def stale_leftovers(results: str | Path) -> list[Path]:
    """Every leftover under `results` of a process of this host that has ended."""
    here, found = socket.gethostname(), []
    for folder, dirs, files in os.walk(results):
        for name in [*dirs, *files]:
            who = owner(name)
            if who and who[0] == here and not process_exists(who[1]):
                found.append(Path(folder) / name)
        dirs[:] = [d for d in dirs if owner(d) is None]  # never walk into a leftover
    return sorted(found)


def remove(path: Path) -> None:
    """A file, a symlink (never what it points to) or a directory tree."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_stale_leftovers(results: str | Path = "results") -> list[Path]:
    """Remove and return the stale leftovers under `results`."""
    removed = stale_leftovers(results)
    for path in removed:
        remove(path)
    return removed


def remove_temporary(outputs: list[tuple[str, bool]], results: str | Path = "results") -> list[Path]:
    """Remove the outputs flagged temporary (path, temporary) that exist under `results`:
    the stores of the jobs a run was asked for by name, which Snakemake keeps."""
    inside = Path(results).absolute()
    removed = []
    for name, temporary in outputs:
        path = Path(name)
        if temporary and os.path.lexists(path) and path.absolute().is_relative_to(inside):
            remove(path)
            removed.append(path)
    return removed
