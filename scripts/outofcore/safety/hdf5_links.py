"""Reach a dataset of a user's HDF5 file through links that stay inside that file.

HDF5 resolves a path link by link: a hard link names an object of the file, a soft link
is a path resolved again (in the same file), an external link opens *another* file (any
path, a named pipe: the open then blocks for ever) and a user-defined link does what its
plugin says. h5py's `file[path]` follows all of them silently, and so does `name in group`
(it asks whether the object exists). `resolve_dataset` walks the path itself, one link at
a time, asking only for each link's kind and value (which never traverses it): hard links
are followed, soft links expanded into the path still to walk (a bounded number of hops,
so a loop of soft links ends), anything else refused. Wherever a chain leads, it can only
end at an object of the named file.
"""

from collections import deque

import h5py

MAX_HOPS = 32  # soft links followed on one path: deeper means a loop or a trick


class LinkRefused(ValueError):
    """The path cannot be resolved inside the file; the message says which link and why."""


def link_kind(group: h5py.Group, name: str) -> int | None:
    """h5py.h5l.TYPE_* of the link `name` of `group` (None: no such link). One link only:
    H5Lexists and H5Lget_info on a single name never traverse the link itself."""
    raw = name.encode()
    if not group.id.links.exists(raw):
        return None
    return group.id.links.get_info(raw).type


def resolve_dataset(h5: h5py.File, path: str) -> h5py.Dataset:
    """The dataset at `path`, reached only through hard links and soft links inside `h5`."""
    root = h5["/"]
    pending, node, walked, hops = deque(part for part in path.split("/") if part), root, "", 0
    while pending:
        part = pending.popleft()
        if part == ".":
            continue
        if not isinstance(node, h5py.Group):
            raise LinkRefused(f"{walked or '/'} is not a group, so it has no {part!r}")
        kind = link_kind(node, part)
        here = f"{walked}/{part}"
        if kind is None:
            raise LinkRefused(f"no dataset {path} in the file (no {here})")
        if kind == h5py.h5l.TYPE_HARD:
            node, walked = node[part], here
        elif kind == h5py.h5l.TYPE_SOFT:
            hops += 1
            if hops > MAX_HOPS:
                raise LinkRefused(f"{path}: more than {MAX_HOPS} soft links (a loop?)")
            target = node.id.links.get_val(part.encode()).decode(errors="replace")
            pending.extendleft(reversed([p for p in target.split("/") if p]))
            if target.startswith("/"):
                node, walked = root, ""
        elif kind == h5py.h5l.TYPE_EXTERNAL:
            filename, inside = node.id.links.get_val(part.encode())
            target = f"{filename.decode(errors='replace')}:{inside.decode(errors='replace')}"
            raise LinkRefused(f"{here} is a link to another file ({target}); refusing it")
        else:
            raise LinkRefused(f"{here} is a user-defined link (kind {kind}); refusing it")
    if not isinstance(node, h5py.Dataset):
        what = "group" if isinstance(node, h5py.Group) else "named type"
        raise LinkRefused(f"{path} is a {what}, not a dataset")
    return node
