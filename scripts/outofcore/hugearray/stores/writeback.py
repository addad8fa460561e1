"""Putting a store on disk while it is being written, so the final fsync has little left.

Without it, the kernel keeps the written bytes in the page cache until the job's final
fsync (a compressed 4 GiB array is below the kernel's background writeback threshold on
a machine with a few GiB of RAM), and that fsync then waits for all of them while the
CPU idles. `Writeback` syncs what earlier appends left in the page cache on a
background thread while the next block is compressed and written, and waits for that
sync before the append returns: the disk works only while the write is timed, and the
time the job's write clock counts is still the time to put the array on disk.
"""

import os
import threading
from collections.abc import Callable
from pathlib import Path


class Writeback:
    """`with writeback.during_append():` around each append of the store at `path`.

    A store that is one file is fdatasync'ed as a whole (it keeps growing); of a store
    that is a directory, each file is fsynced once, when an append finds it complete
    (appends write every file of their block before they return). Files are found with
    `files` (the store's `Backend.files`).
    """

    def __init__(self, path: Path, files: Callable[[Path], list[Path]], directory: bool) -> None:
        self.path, self.files, self.directory = Path(path), files, directory
        self.synced: set[Path] = set()
        self.failure: BaseException | None = None

    def earlier_files(self) -> list[Path]:
        """The files of a directory store to sync now, listed before the append starts:
        those not synced yet (all complete by now)."""
        if not self.directory:
            return []
        return [file for file in self.files(self.path) if file not in self.synced]

    def sync(self, files: list[Path]) -> None:
        try:
            if not self.directory:  # one file: it keeps growing, synced every time
                sync_file(self.path, os.fdatasync)
            for file in files:  # none for a single file
                sync_file(file, os.fsync)
                self.synced.add(file)
        except BaseException as error:  # raised by the append that waited for it
            self.failure = error

    def during_append(self) -> "_Running":
        return _Running(self)


class _Running:
    """The background sync of one append: started on entering, waited for on leaving."""

    def __init__(self, writeback: Writeback) -> None:
        self.writeback = writeback
        self.thread: threading.Thread | None = None

    def __enter__(self) -> None:
        files = self.writeback.earlier_files()
        self.thread = threading.Thread(target=self.writeback.sync, args=(files,), name="hugearray-writeback")
        self.thread.start()

    def __exit__(self, *exc: object) -> None:
        if self.thread is not None:
            self.thread.join()
        failure, self.writeback.failure = self.writeback.failure, None
        if failure is not None and exc[0] is None:
            raise failure


def sync_file(path: Path, sync: Callable[[int], None]) -> None:
    if not path.exists():  # not created yet (a store that creates its file on first write)
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        sync(fd)
    finally:
        os.close(fd)
