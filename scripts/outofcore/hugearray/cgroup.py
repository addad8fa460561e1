"""A cgroup v2 `memory.max` for a capped process, where the machine lets this run make one.

cgroup v2 allows a process to give itself a memory limit only inside a subtree delegated
to it: its own cgroup C must receive the memory controller from its parent P (`memory`
in C/cgroup.controllers, i.e. in P/cgroup.subtree_control) and P must be writable (a
systemd unit or scope with Delegate=yes, a container with its own cgroup namespace and
a writable /sys/fs/cgroup). A group is then made beside C, P/<name>, with memory.max =
the cap (and memory.swap.max = 0, so that the cap is not met by swapping), and the
process moves itself into it (the move needs P's cgroup.procs writable too, which the
same delegation gives). A group is made under P, not under C: a cgroup holding
processes cannot hand controllers to its children (v2's no-internal-processes rule).

Where any step fails, the caller falls back to RLIMIT_DATA (`memcap.apply_cap`) and
logs why. Tested: the detection and the group's creation on directory trees made like
the kernel's (`make_group` takes the root), and the fallback on a machine without
cgroup v2. Not tested here: the move into the group and the kernel enforcing the limit
(no machine of the tests has a delegated v2 memory controller).
"""

import contextlib
import os
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
SELF = Path("/proc/self/cgroup")


def own_cgroup(text: str) -> str | None:
    """The process's cgroup v2 path ("/a/b") from /proc/<pid>/cgroup's "0::" line (None: no v2)."""
    for line in text.splitlines():
        if line.startswith("0::"):
            return line[3:].strip() or "/"
    return None


def make_group(root: Path, own: str | None, name: str, cap_bytes: int) -> tuple[Path | None, str]:
    """A new cgroup `name` beside the process's own one, `own`, with memory.max =
    `cap_bytes`: (its directory, ""), or (None, why it cannot be made)."""
    if not (root / "cgroup.controllers").is_file():
        return None, f"{root} is not a cgroup v2 hierarchy (cgroup v1 or none)"
    if own is None:
        return None, "this process has no cgroup v2 path (/proc/self/cgroup has no 0:: line)"
    mine = root / own.lstrip("/")
    if own == "/" or not mine.is_dir():
        return None, f"this process's cgroup {own} has no parent cgroup here to make a group in"
    controllers = (mine / "cgroup.controllers").read_text().split()
    if "memory" not in controllers:
        given = " ".join(controllers) or "none"
        return None, f"the memory controller is not delegated to {mine} (cgroup.controllers: {given})"
    group = mine.parent / name
    try:
        group.mkdir(exist_ok=True)
        (group / "memory.max").write_text(f"{cap_bytes}\n")
        if (mine / "memory.swap.max").exists():  # swap accounted: no swapping around the cap
            (group / "memory.swap.max").write_text("0\n")
    except OSError as error:
        remove_group(group)
        return None, f"cannot make a cgroup with memory.max in {mine.parent}: {error.strerror or error}"
    return group, ""


def enter(group: Path) -> None:
    """Move this process into `group` (OSError where the delegation does not allow it)."""
    (group / "cgroup.procs").write_text(f"{os.getpid()}\n")


def remove_group(group: Path) -> None:
    """Remove an empty group (a kernel cgroup: rmdir; left alone while processes are in it)."""
    with contextlib.suppress(OSError):
        group.rmdir()


def cgroup_cap(cap_bytes: int, root: Path = ROOT) -> tuple[Path | None, str]:
    """This process under a new cgroup with memory.max = `cap_bytes`: (the group, "") or
    (None, why not). Groups of earlier processes, empty now, are removed first."""
    try:
        own = own_cgroup(SELF.read_text())
    except OSError:
        own = None
    if own not in (None, "/") and (root / own.lstrip("/")).is_dir():
        for stale in (root / own.lstrip("/")).parent.glob("outofcore-*"):
            remove_group(stale)  # the kernel refuses while processes remain in one
    group, why = make_group(root, own, f"outofcore-{os.getpid()}", cap_bytes)
    if group is None:
        return None, why
    try:
        enter(group)
    except OSError as error:
        remove_group(group)
        return None, f"cannot move into {group}: {error.strerror or error}"
    return group, ""
