"""Refuse HDF5 files a reader of the project must not open: pickles and foreign layouts.

Pickles: PyTables unpickles an attribute as soon as a node's attributes are loaded, which
happens on merely opening a table (PyTables issues #47 and #813, open): a crafted file
runs code. h5py never unpickles, so the file's attributes are read with h5py first and
any value that is a pickle stream able to import or call something is refused.

Layouts: a dataset's bytes need not live in its file. HDF5 reads an *external* dataset
from any raw file (`/etc/passwd`), a *virtual* one from other HDF5 files, follows
external links to other files, and returns the fill value for storage a dataset declares
but never allocated (a 2 KB file can declare terabytes; a reader loops over all of it).
Fletcher-32 checksums cover none of this. `refuse_foreign_layout` accepts only what the
project's writers make: hard links, chunked or contiguous storage inside the file, every
chunk allocated, checksummed chunks where the writer checksums, and declared sizes the
stored bytes can hold. A reader that knows the shape it wrote and means to read (the
huge array's own stores) passes it as `expected`: the shape must be exactly that, and the
stored-bytes bound does not apply to it, since no ratio bounds what a codec makes of
redundant data (blosc2 stores a constant chunk as its header and one value; a constant
column of years compressed 4,700x), while the work of reading it is what the job asked for.
"""

import math
import os
import pickletools
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from outofcore.core.files import InputReadError

# opcodes through which a pickle imports or calls: without them it only builds plain data
CODE_OPCODES = {"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE", "NEWOBJ", "NEWOBJ_EX", "BUILD"}
CODE_OPCODES |= {"EXT1", "EXT2", "EXT4", "PERSID", "BINPERSID"}


class UnsafeFile(InputReadError, ValueError):
    """The file carries pickled objects or a layout its writer never makes; the message
    names the file and what was found."""


# Filters that leave a chunk's size as is: with only these, a chunk stores at least its
# bytes. Any other (compression) may shrink it, up to MAX_RATIO (zeros in zlib: ~1000).
SIZE_KEEPING_FILTERS = {h5py.h5z.FILTER_FLETCHER32, h5py.h5z.FILTER_SHUFFLE}
MAX_RATIO = 1024
# Bytes a declared size may exceed what the stored chunks hold: padding of edge chunks
# when every chunk is allocated; else the unallocated chunks of PyTables' index arrays
# (its last-row arrays declare a whole slice, a few MiB, and store a few bytes).
SLACK = 64 << 10
SPARSE_SLACK = 32 << 20


def dataset_layout_problems(
    ds: h5py.Dataset,
    file_size: int,
    checksummed: bool = False,
    complete: bool = False,
    expected_shape: tuple[int, ...] | None = None,
) -> list[str]:
    """What is wrong with the storage of one dataset (empty: its bytes are in the file).
    `checksummed`: chunked with Fletcher-32 on every chunk; `complete`: every chunk
    allocated (PyTables leaves some of its index arrays' chunks unallocated);
    `expected_shape`: the shape the reader wrote and will read (its size is then no
    bomb, however well it compressed)."""
    if expected_shape is not None and tuple(ds.shape or ()) != tuple(expected_shape):
        return [f"shape {ds.shape}, not the {tuple(expected_shape)} written"]
    plist = ds.id.get_create_plist()
    layout = plist.get_layout()
    if layout == h5py.h5d.VIRTUAL:
        return ["a virtual dataset (its data would be read from other files)"]
    if plist.get_external_count():
        return [f"stored in external raw file {plist.get_external(0)[0].decode(errors='replace')!r}"]
    filters = {plist.get_filter(i)[0] for i in range(plist.get_nfilters())}
    if checksummed and (layout != h5py.h5d.CHUNKED or h5py.h5z.FILTER_FLETCHER32 not in filters):
        return ["not chunked with Fletcher-32 checksums as written"]
    declared = ds.size * ds.dtype.itemsize
    if layout == h5py.h5d.CONTIGUOUS:
        offset, stored = ds.id.get_offset(), ds.id.get_storage_size()
        if declared and (offset is None or stored < declared or offset + stored > file_size):
            return [f"declares {declared:,} bytes, {stored:,} stored in the file of {file_size:,}"]
        return []
    if layout != h5py.h5d.CHUNKED:
        return []  # compact: the bytes live in the object header, at most 64 KiB
    chunks = ds.chunks or ds.shape
    expected = math.prod(-(-n // c) for n, c in zip(ds.shape, chunks, strict=True)) if declared else 0
    found, stored, outside, skipped = 0, 0, 0, 0

    def count(chunk: Any) -> None:
        nonlocal found, stored, outside, skipped
        found, stored = found + 1, stored + chunk.size
        outside += chunk.byte_offset + chunk.size > file_size
        skipped += chunk.filter_mask != 0  # a filter (a checksum) not applied to this chunk

    if expected:
        ds.id.chunk_iter(count)
    ratio = 1 if filters <= SIZE_KEEPING_FILTERS else MAX_RATIO
    if outside or (complete and found != expected):
        stored_inside = found - outside
        return [f"declares {expected:,} chunks, {stored_inside:,} stored in the file of {file_size:,} bytes"]
    if checksummed and skipped:
        return [f"{skipped:,} chunks stored without their checksum"]
    if expected_shape is None and declared > stored * ratio + (SLACK if complete else SPARSE_SLACK):
        return [f"declares {declared:,} bytes, only {stored:,} stored"]
    return []


Shapes = Mapping[str, tuple[int, ...]]  # "/name" -> the shape its reader wrote and reads


def layout_problems(
    path: str | Path, checksummed: bool = False, complete: bool = False, expected: Shapes | None = None
) -> list[str]:
    """`/name: problem` for every link and dataset whose data would not come from the file
    (`expected`: datasets whose shape the reader knows, `dataset_layout_problems`)."""
    expected = expected or {}
    if not stat.S_ISREG(os.stat(path).st_mode):  # a named pipe would block HDF5's open for ever
        return ["/: not a regular file"]
    file_size = os.path.getsize(path)
    found: list[str] = []

    def check(name: str, link: Any) -> None:
        if not isinstance(link, h5py.HardLink):
            kind = type(link).__name__
            target = getattr(link, "filename", None) or getattr(link, "path", "")
            found.append(f"/{name}: a {kind} to {target!r} (the writer makes hard links only)")
            return
        obj = h5[name]
        if isinstance(obj, h5py.Dataset):
            shape = expected.get(f"/{name}")
            problems = dataset_layout_problems(obj, file_size, checksummed, complete, shape)
            found.extend(f"/{name}: {problem}" for problem in problems)

    with h5py.File(path, "r") as h5:
        h5.visititems_links(check)
    return found


def refuse_foreign_layout(
    path: str | Path, checksummed: bool = False, complete: bool = False, expected: Shapes | None = None
) -> None:
    """Raise UnsafeFile unless every dataset of `path` reads only bytes of `path` itself
    (and, as asked, is checksummed, has every chunk allocated, has the expected shape)."""
    found = layout_problems(path, checksummed, complete, expected)
    if found:
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise UnsafeFile(f"{path}: {'; '.join(found[:3])}{more}; refusing to read the file")


def runs_code_when_unpickled(value: Any) -> bool:
    """True if `value` parses as a pickle stream that imports or calls (never executes it)."""
    if isinstance(value, str):
        value = value.encode("latin-1", errors="ignore")
    elif isinstance(value, np.ndarray | np.void | np.generic) and value.dtype.kind in "SVOa":
        value = value.tobytes()
    if not isinstance(value, bytes | np.bytes_):
        return False
    try:  # the whole value must parse, up to its STOP: text that merely starts like one is not
        names = [op.name for op, _, _ in pickletools.genops(bytes(value))]
    except Exception:  # not a pickle stream at all
        return False
    return bool(CODE_OPCODES.intersection(names))


def pickled_attributes(path: str | Path) -> list[str]:
    """`node:attribute` of every attribute holding a code-running pickle, or unreadable."""
    found: list[str] = []

    def check(name: str, obj: Any) -> None:
        for key in obj.attrs:
            try:
                value = obj.attrs[key]
            except Exception:  # PyTables might read what h5py cannot: do not let it try
                found.append(f"/{name}:{key} (unreadable)")
                continue
            if runs_code_when_unpickled(value):
                found.append(f"/{name}:{key}")

    with h5py.File(path, "r") as h5:
        check("", h5)
        h5.visititems(check)
    return [f.replace("//", "/") for f in found]


def refuse_unsafe(path: str | Path, checksummed: bool = False, expected: Shapes | None = None) -> None:
    """Raise UnsafeFile if `path` is not a file its writer could have made: datasets that
    read bytes from elsewhere (`refuse_foreign_layout`) or pickles PyTables would run."""
    refuse_foreign_layout(path, checksummed, expected=expected)
    refuse_pickles(path)


def refuse_pickles(path: str | Path) -> None:
    """Raise UnsafeFile if opening `path` with PyTables could unpickle (run) anything."""
    found = pickled_attributes(path)
    if found:
        raise UnsafeFile(
            f"{path}: attributes {', '.join(found)} hold pickled Python objects that would run "
            "code when PyTables loads them; refusing to open the file"
        )
