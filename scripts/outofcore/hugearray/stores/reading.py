"""Reading a store back in pieces on parallel workers, shared by every backend.

A backend's reader is a `PieceReader`: the pieces to read (blocks or chunks), a `fetch`
that touches the store (under one lock, in order) and a `finish` that decompresses in
parallel. `read_in_parallel` hands every piece to one of several workers.
"""

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from outofcore.hugearray.stores.layout import Layout
from outofcore.plan.units import MiB


class Readahead:
    """Asks the kernel to read a file ahead of the readers (posix_fadvise WILLNEED).

    The file was written in row order, so reading row r is near byte size * r / rows.
    Keeping `window` bytes beyond that requested lets the disk work while the CPU
    decompresses and reduces: on a file just written (cached nowhere) it doubled the
    cold read rate here. Pages land in the page cache, not in the process's memory.
    A no-op where posix_fadvise does not exist.
    """

    def __init__(self, path: Path, rows: int, window: int) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.size, self.rows, self.window, self.requested = os.fstat(self.fd).st_size, rows, window, 0

    def before(self, row: int) -> None:
        """A reader is about to read `row`."""
        if not hasattr(os, "posix_fadvise"):
            return
        wanted = min(self.size, self.size * row // max(1, self.rows) + self.window)
        while self.requested < wanted:
            os.posix_fadvise(self.fd, self.requested, self.window, os.POSIX_FADV_WILLNEED)
            self.requested += self.window

    def close(self) -> None:
        os.close(self.fd)


class PieceReader:
    """Reads a store piece by piece (chunks or blocks) for `read_in_parallel`.

    `fetch(piece, buffer)` runs under a lock, one at a time and in order: the only
    place the store is touched, so the HDF5 libraries are never entered from two threads
    and the disk sees sequential reads. `finish(piece, fetched, buffer)` runs outside
    the lock, in parallel (decompression), and returns the piece's rows as an array.

    `ahead_of` is the file to read ahead of (`Readahead`, one block beyond the readers):
    a store that is one file in row order; None for a store whose reader needs none.
    """

    pieces: Iterable[Any]
    shape: tuple[int, int]  # of the buffer each worker reuses

    def __init__(self, layout: Layout, ahead_of: Path | None) -> None:
        self.layout = layout
        self.closers: list[Callable[[], None]] = []
        self.ahead: Readahead | None = None
        if ahead_of is not None:
            self.ahead = Readahead(ahead_of, layout.rows, max(8 * MiB, layout.block_nbytes))
            self.closers.append(self.ahead.close)

    def read_ahead(self, row: int) -> None:
        """Call in `fetch` before reading from `row` on."""
        if self.ahead is not None:
            self.ahead.before(row)

    def fetch(self, piece: Any, buffer: np.ndarray) -> Any:
        raise NotImplementedError

    def finish(self, piece: Any, fetched: Any, buffer: np.ndarray) -> np.ndarray:
        return fetched

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


class BlockReader(PieceReader):
    """Blocks read (and decompressed) by the store's library into each worker's buffer."""

    def __init__(
        self, layout: Layout, ahead_of: Path | None, read_rows: Callable[[int, int, np.ndarray], Any]
    ) -> None:
        super().__init__(layout, ahead_of)
        self.pieces = layout.blocks()
        self.shape = (layout.block_rows, layout.columns)
        self.read_rows = read_rows

    def fetch(self, span: tuple[int, int], buffer: np.ndarray) -> np.ndarray:
        start, stop = span
        self.read_ahead(start)
        block = buffer[: stop - start]
        self.read_rows(start, stop, block)
        return block


def read_in_parallel(reader: PieceReader, sinks: Sequence[Callable[[np.ndarray], None]]) -> None:
    """Every piece of the store handed to one of `sinks`, one worker thread per sink.

    Workers take the pieces in order, fetch them under one lock and finish (decompress)
    and consume them in parallel: blosc2, numpy and the HDF5 reads release the GIL. Each
    worker reuses one buffer, so memory is a few pieces whatever the store's size. A
    failure stops the other workers and is raised here.
    """
    lock = threading.Lock()
    pieces = iter(reader.pieces)
    failures: list[BaseException] = []

    def work(sink: Callable[[np.ndarray], None]) -> None:
        buffer = np.empty(reader.shape)
        try:
            while not failures:
                with lock:
                    piece = next(pieces, None)
                    if piece is None:
                        return
                    fetched = reader.fetch(piece, buffer)
                sink(reader.finish(piece, fetched, buffer))
        except BaseException as error:  # handed to the caller
            failures.append(error)

    workers = [threading.Thread(target=work, args=(sink,), name="hugearray-reduce") for sink in sinks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise failures[0]
