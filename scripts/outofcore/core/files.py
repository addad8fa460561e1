"""Small helpers shared by the stage scripts: logging and atomic outputs."""

import logging
import os
import shutil
import socket
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class PlantedPath(OSError):
    """A path the workflow writes or locks is a symlink, a hard link to another file or not
    a regular file: something planted it there, and writing would change what it points
    to. The message names the path."""


def open_own(path: str | Path, flags: int = os.O_RDWR) -> int:
    """A descriptor of `path`, created if absent, never through a symlink (O_NOFOLLOW) and
    refused unless it is a regular file of one link (a planted hard link would make a
    write land in another file). Nothing is truncated before these checks pass."""
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if os.path.islink(path):
            reason = "a symbolic link; refusing to write through it"
            raise PlantedPath(f"{path} is {reason} (remove it)") from None
        raise OutputWriteError(f"could not open {path}: {error.strerror}") from error
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(fd)
        what = f"a file of {info.st_nlink} hard links" if stat.S_ISREG(info.st_mode) else "not a regular file"
        raise PlantedPath(f"{path} is {what}; refusing to write to it (remove it)")
    return fd


def one_line_on_console(kind: type[BaseException], error: BaseException, trace: Any) -> None:
    """The traceback to the log; an error that names its file or config key (a bad input,
    a failed write, a planted path) also as its one line on the console."""
    import traceback

    from outofcore.plan.source_specs import SourceError

    traceback.print_exception(kind, error, trace, file=sys.stderr)
    if isinstance(error, InputReadError | OutputWriteError | PlantedPath | SourceError):
        print(f"{kind.__name__}: {error}", file=sys.__stderr__)


def log_to(log_path: str | Path) -> logging.Logger:
    """Send stderr (warnings, tracebacks) and the stage's logger to the rule's log file
    (opened by `open_own`: a symlink planted at the log's name is refused, not followed)."""
    try:
        fd = open_own(log_path, os.O_WRONLY)
    except (PlantedPath, OutputWriteError) as error:
        raise SystemExit(str(error)) from None  # the one line, on the console
    os.ftruncate(fd, 0)
    sys.stderr = open(fd, "w", buffering=1)  # noqa: SIM115 - lives as long as the job
    sys.excepthook = one_line_on_console
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        force=True,
    )
    return logging.getLogger("stage")


class OutputWriteError(RuntimeError):
    """Writing an output failed (disk full, size limit, I/O or library error); the
    message names the file, the original error is chained."""


class InputReadError(RuntimeError):
    """An input could not be read (truncated, corrupted, not HDF5); the message names it."""


@contextmanager
def reading(path: str | Path) -> Iterator[None]:
    """Turn any failure while reading `path` into one error that names the file.

    HDF5 libraries report a truncated or overwritten file as an OSError, a RuntimeError
    or a KeyError deep in a traceback; the user needs the file's name and what to do.
    """
    try:
        yield
    except InputReadError:
        raise  # already one line naming the file
    except Exception as error:
        raise InputReadError(
            f"could not read {path}: {type(error).__name__}: {error} "
            "(truncated or corrupted? delete it and rerun the workflow to rebuild it)"
        ) from error


def owner_tag() -> str:
    """HOST-PID of this process: the end of every scratch name a job writes, so the start
    of a run can tell a killed job's leftovers from a running one's (`plan.leftovers`)."""
    return f"{socket.gethostname()}-{os.getpid()}"


def partial_name(path: Path) -> Path:
    """Where an output is written before it is complete: same directory, hidden name."""
    return path.with_name(f".{path.name}.partial-{owner_tag()}")


def remove_path(path: Path) -> None:
    """Remove a file or a directory tree, if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def fsync_path(path: Path) -> None:
    """Put a file, or every file and folder of a directory tree, on disk."""
    for item in [*sorted(path.rglob("*")), path] if path.is_dir() else [path]:
        if item.is_symlink() or not (item.is_file() or item.is_dir()):
            continue
        fd = os.open(item, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def atomic_output(path: str | Path, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it to `path` only on success.

    A killed or failing writer therefore never leaves a file at `path` that looks
    complete but is not: the rename is atomic within one file system. With
    `directory=True` the output is a directory (a store of many files): the temporary
    path is then an empty directory, created here, whose files are all synced before
    the rename; a previous complete directory at `path` is replaced. Partial outputs of
    a killed writer (files or directories) are removed first.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{final.name}.partial-*"):  # left by a killed writer
        remove_path(stale)
    tmp = partial_name(final)
    try:
        # Created here, new (O_EXCL, never through a symlink): the writer then opens a file
        # or directory of this job's own, whatever was planted at the name before.
        remove_path(tmp)
        if directory:
            tmp.mkdir()
        else:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644))
        yield tmp
        fsync_path(tmp)  # data on disk before the name points at it
        if directory and final.is_dir():  # a rename replaces a file, not a full directory
            remove_path(final)
        os.replace(tmp, final)
    except Exception as error:  # disk full, size limit, HDF5 error...: say which output
        remove_path(tmp)
        raise OutputWriteError(f"could not write {final}: {type(error).__name__}: {error}") from error
    except BaseException:
        remove_path(tmp)
        raise


def write_csv(frame: Any, path: str | Path) -> None:
    """A pandas DataFrame as CSV without its index, written atomically."""
    with atomic_output(path) as tmp:
        frame.to_csv(tmp, index=False)


def save_figure(fig: Any, *paths: str | Path) -> None:
    """A matplotlib figure to each path, in the format its suffix names, atomically.

    SVGs get no date, so the same figure gives the same bytes. Its text is first raised
    to what the report shows readably (`outofcore.core.readable`). The figure is closed after.
    """
    from outofcore.core.readable import DPI, readable  # here: matplotlib only for jobs that draw

    readable(fig)
    for path in paths:
        fmt = Path(path).suffix.lstrip(".")
        metadata = {"Date": None} if fmt == "svg" else None
        with atomic_output(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=metadata)
    import matplotlib.pyplot as plt  # here: io_utils serves jobs that draw nothing too

    plt.close(fig)
