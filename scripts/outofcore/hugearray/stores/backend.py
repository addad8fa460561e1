"""One array store of the huge-array stage as one object: a `Backend` registry entry.

An entry says what the store is (name, suffix of its output, one file or a directory,
compressing or raw, able to write blosc2 chunks directly) and carries everything the job
does with it: open a writer, open a reader, put the store on disk (`sync`), drop it from
the page cache (`evict`) and measure it (`bytes_on_disk`). The last three act on every
file of the store, so the job never assumes the store is one file.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from outofcore.core.files import fsync_path
from outofcore.hugearray.stores.layout import Layout, StoreSpec
from outofcore.hugearray.stores.reading import PieceReader


@dataclass
class OpenArray:
    """A store opened by its own library: an object with `shape`, `dtype` and row-slice
    `__getitem__` that an array library (dask) reads from, and how to close it."""

    array: Any
    lock: bool  # the library must not be entered from two threads at once (HDF5)
    close: Callable[[], None]


@dataclass
class NativeStats:
    """Per-column sum, mean, min and max computed by the store's own library."""

    total: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    missing: np.ndarray | None = None  # NaN per column (None: the sums had none)


class Writer(Protocol):
    """Appends the array block by block, in row order; `close` completes the store."""

    def append(self, block: np.ndarray) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Backend:
    name: str  # as in the config's hugearray.backends
    suffix: str  # of the output: results/hugearray/{size_mb}/{name}{suffix}
    directory: bool  # the store is a directory of files, not one file
    compresses: bool  # applies the configured compression (else stores raw bytes)
    direct_chunks: bool  # can compress whole chunks with python-blosc2 and store them as is
    writer: Callable[[Path, StoreSpec], Writer]  # creates the store at the path
    reader: Callable[[Path, StoreSpec], PieceReader]  # hands the stored array back in pieces
    # the store's array as its library opens it, for array libraries (engine `dask`)
    opener: Callable[[Path, StoreSpec], OpenArray] | None = None
    # per-column statistics by the store's own library (engine `blosc2`)
    native: Callable[[Path, StoreSpec], NativeStats] | None = None
    # the configured compression -> what the store applies (default: as configured)
    stored_compression: Callable[[str], str] | None = None

    def spec(
        self, layout: Layout, compression: str, threads: int, direct_chunks: bool, **options: Any
    ) -> StoreSpec:
        """What this backend really does with the configured compression and direct chunks;
        `options` are the store-specific fields of `StoreSpec` (zarr shards, b2nd blocks)."""
        stored = compression if self.compresses else "none"
        if self.stored_compression is not None:
            stored = self.stored_compression(stored)
        direct = direct_chunks and self.direct_chunks and stored.startswith("blosc2:")
        return StoreSpec(layout, stored, threads, direct, **options)

    def files(self, path: Path) -> list[Path]:
        """Every regular file of the store at `path`."""
        path = Path(path)
        if not self.directory:
            return [path]
        return sorted(item for item in path.rglob("*") if item.is_file() and not item.is_symlink())

    def sync(self, path: Path) -> None:
        """Put the store on disk: every file (and, for a directory, every folder) fsynced."""
        fsync_path(Path(path))

    def evict(self, path: Path) -> bool:
        """Drop every (synced) file of the store from the page cache: the next read hits the
        disk. False where the OS offers no posix_fadvise (macOS): the read will be warm."""
        if not hasattr(os, "posix_fadvise"):
            return False
        for file in self.files(path):
            fd = os.open(file, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
        return True

    def bytes_on_disk(self, path: Path) -> int:
        """Size of the store: the sum of its files' sizes (st_size)."""
        return sum(file.stat().st_size for file in self.files(path))
