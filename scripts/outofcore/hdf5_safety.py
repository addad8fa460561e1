"""Refuse HDF5 files whose attributes hold pickled Python objects, before PyTables opens them.

PyTables unpickles an attribute as soon as a node's attributes are loaded, which happens
on merely opening a table (PyTables issues #47 and #813, open): a crafted file runs code.
h5py never unpickles, so the file's attributes are read with h5py first and any value
that is a pickle stream able to import or call something is refused.
"""

import pickletools
from pathlib import Path
from typing import Any

import h5py
import numpy as np

# opcodes through which a pickle imports or calls: without them it only builds plain data
CODE_OPCODES = {"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE", "NEWOBJ", "NEWOBJ_EX", "BUILD"}
CODE_OPCODES |= {"EXT1", "EXT2", "EXT4", "PERSID", "BINPERSID"}


class UnsafeFile(ValueError):
    """The file carries pickled objects; the message names the file and the attributes."""


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


def refuse_pickles(path: str | Path) -> None:
    """Raise UnsafeFile if opening `path` with PyTables could unpickle (run) anything."""
    found = pickled_attributes(path)
    if found:
        raise UnsafeFile(
            f"{path}: attributes {', '.join(found)} hold pickled Python objects that would run "
            "code when PyTables loads them; refusing to open the file"
        )
