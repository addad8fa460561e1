"""Small helpers shared by the stage scripts: logging and atomic outputs."""

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def log_to(log_path: str | Path) -> logging.Logger:
    """Send stderr (warnings, tracebacks) and the stage's logger to the rule's log file."""
    sys.stderr = open(log_path, "w", buffering=1)  # noqa: SIM115 - lives as long as the job
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
    except Exception as error:
        raise InputReadError(
            f"could not read {path}: {type(error).__name__}: {error} "
            "(truncated or corrupted? delete it and rerun the workflow to rebuild it)"
        ) from error


def partial_name(path: Path) -> Path:
    """Where an output is written before it is complete: same directory, hidden name."""
    return path.with_name(f".{path.name}.partial-{os.getpid()}")


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it to `path` only on success.

    A killed or failing writer therefore never leaves a file at `path` that looks
    complete but is not: the rename is atomic within one file system.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".{final.name}.partial-*"):  # left by a killed writer
        stale.unlink(missing_ok=True)
    tmp = partial_name(final)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:  # data on disk before the name points at it
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    except Exception as error:  # disk full, size limit, HDF5 error...: say which output
        tmp.unlink(missing_ok=True)
        raise OutputWriteError(f"could not write {final}: {type(error).__name__}: {error}") from error
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_csv(frame: Any, path: str | Path) -> None:
    """A pandas DataFrame as CSV without its index, written atomically."""
    with atomic_output(path) as tmp:
        frame.to_csv(tmp, index=False)


def save_figure(fig: Any, *paths: str | Path) -> None:
    """A matplotlib figure to each path, in the format its suffix names, atomically.

    SVGs get no date, so the same figure gives the same bytes. The figure is closed after.
    """
    for path in paths:
        fmt = Path(path).suffix.lstrip(".")
        metadata = {"Date": None} if fmt == "svg" else None
        with atomic_output(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=120, metadata=metadata)
    import matplotlib.pyplot as plt  # here: io_utils serves jobs that draw nothing too

    plt.close(fig)
