"""Backend ``memmap``: a .npy file written and read through numpy.memmap windows, one
block at a time (mapping the whole file and touching it all would count every page in
the process's RSS). It stores raw bytes: the configured compression does not apply."""

import os
from pathlib import Path
from typing import Any

import numpy as np

from outofcore.hugearray.stores.backend import Backend, OpenArray
from outofcore.hugearray.stores.layout import StoreSpec
from outofcore.hugearray.stores.reading import PieceReader


def allocate(path: Path) -> None:
    """Give the sparse file all its disk blocks now. A write through a mapping that finds
    the disk full (filled by another job after the free-space check) is a SIGBUS that
    kills the job with no message; posix_fallocate fails here instead, with ENOSPC,
    which the job reports naming the file. Where it does not exist, nothing is done."""
    if not hasattr(os, "posix_fallocate"):
        return
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
    finally:
        os.close(fd)


class MemmapWriter:
    """A .npy file of the final shape, filled through one numpy.memmap window per block."""

    def __init__(self, path: Path, spec: StoreSpec) -> None:
        self.path, self.layout, self.written = path, spec.layout, 0
        whole = np.lib.format.open_memmap(
            path, mode="w+", dtype=np.float64, shape=(self.layout.rows, self.layout.columns)
        )
        self.offset = whole.offset  # bytes of the .npy header
        del whole  # unmapped: the file exists (sparse), no page was touched
        allocate(path)

    def append(self, block: np.ndarray) -> None:
        window = np.memmap(
            self.path,
            dtype=np.float64,
            mode="r+",
            offset=self.offset + self.written * self.layout.columns * 8,
            shape=block.shape,
        )
        window[...] = block
        del window  # unmapped: the dirty pages stay in the page cache, not in our RSS
        self.written += len(block)

    def close(self) -> None:
        pass


class MemmapReader(PieceReader):
    """One numpy.memmap window per block, mapped by the worker that reduces it and
    unmapped when it moves on: a window of pages, never the whole file, in RSS."""

    def __init__(self, path: Path, spec: StoreSpec) -> None:
        super().__init__(spec.layout, ahead_of=path)
        header = np.load(path, mmap_mode="r")
        self.path, self.offset = path, header.offset
        del header
        self.pieces = spec.layout.blocks()
        self.shape = (0, spec.layout.columns)  # no buffer: the window is the data

    def fetch(self, span: tuple[int, int], buffer: np.ndarray) -> None:
        self.read_ahead(span[0])

    def finish(self, span: tuple[int, int], fetched: Any, buffer: np.ndarray) -> np.ndarray:
        start, stop = span
        return np.memmap(
            self.path,
            dtype=np.float64,
            mode="r",
            offset=self.offset + start * self.layout.columns * 8,
            shape=(stop - start, self.layout.columns),
        )


class MemmapWindows:
    """The .npy file as an array whose row slices are read through a window mapped for
    that slice only (`np.load(mmap_mode="r")` maps the whole file: every page a reader
    touches would stay in its RSS)."""

    def __init__(self, path: Path, spec: StoreSpec) -> None:
        header = np.load(path, mmap_mode="r")
        self.path, self.offset, self.shape, self.dtype = path, header.offset, header.shape, header.dtype
        del header
        self.ndim = len(self.shape)

    def __getitem__(self, index: Any) -> np.ndarray:
        rows, columns = index if isinstance(index, tuple) else (index, slice(None))
        start, stop, step = rows.indices(self.shape[0])
        window = np.memmap(
            self.path,
            dtype=self.dtype,
            mode="r",
            offset=self.offset + start * self.shape[1] * self.dtype.itemsize,
            shape=(max(0, stop - start), self.shape[1]),
        )
        try:
            return np.array(window[::step, columns])  # a copy: the window is unmapped now
        finally:
            del window


def memmap_opener(path: Path, spec: StoreSpec) -> OpenArray:
    return OpenArray(MemmapWindows(path, spec), lock=False, close=lambda: None)


BACKEND = Backend(
    name="memmap",
    suffix=".npy",
    directory=False,
    compresses=False,
    direct_chunks=False,
    writer=MemmapWriter,
    reader=MemmapReader,
    opener=memmap_opener,
)
