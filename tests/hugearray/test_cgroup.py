"""The cgroup v2 memory cap: where a delegated subtree gives the memory controller, a group
is made beside the process's own with memory.max = the cap; anywhere else the reason is
said and the cap falls back to RLIMIT_DATA. The detection and the group's creation are
shown on directory trees laid out as the kernel's; the fallback for real on this machine
(whose cgroups are v1). Moving into the group and the kernel's enforcement need a
machine with a delegated v2 memory controller: not shown here."""

from pathlib import Path

import pytest

from outofcore.hugearray.cgroup import ROOT, SELF, make_group, own_cgroup
from outofcore.hugearray.memcap import run_naive

CAP = 512 * 2**20


def hierarchy(root: Path, own: str = "/job.slice/run", given: str = "cpu memory", swap: bool = True) -> Path:
    """A cgroup v2 tree as the kernel shows it: the root's controllers, the process's own
    group (`own`) with the controllers its parent gives it (`given`)."""
    (root / "cgroup.controllers").write_text("cpu io memory pids\n")
    mine = root / own.lstrip("/")
    mine.mkdir(parents=True)
    (mine.parent / "cgroup.subtree_control").write_text(f"{given}\n")
    (mine / "cgroup.controllers").write_text(f"{given}\n")
    if swap:
        (mine / "memory.swap.max").write_text("max\n")
    return mine


def test_the_process_cgroup_is_its_0_line():
    assert own_cgroup("12:memory:/x\n0::/user.slice/run-1.scope\n") == "/user.slice/run-1.scope"
    assert own_cgroup("9:name=systemd:/\n8:pids:/\n") is None  # cgroup v1 only
    assert own_cgroup("0::/\n") == "/"


def test_a_group_beside_the_own_one_gets_memory_max_and_no_swap(tmp_path):
    mine = hierarchy(tmp_path)
    group, why = make_group(tmp_path, "/job.slice/run", "outofcore-7", CAP)
    assert why == "" and group == mine.parent / "outofcore-7"
    assert (group / "memory.max").read_text() == f"{CAP}\n"
    assert (group / "memory.swap.max").read_text() == "0\n"
    (tmp_path / "noswap").mkdir()
    hierarchy(tmp_path / "noswap", swap=False)
    group, _ = make_group(tmp_path / "noswap", "/job.slice/run", "outofcore-7", CAP)
    assert not (group / "memory.swap.max").exists()


@pytest.mark.parametrize(
    ("layout", "own", "why"),
    [
        ("v1", "/run", "is not a cgroup v2 hierarchy"),
        ("v2", None, "has no cgroup v2 path"),
        ("v2", "/", "has no parent cgroup"),
        ("cpu only", "/job.slice/run", "memory controller is not delegated to"),
        ("taken", "/job.slice/run", "cannot make a cgroup with memory.max in"),
    ],
)
def test_where_no_group_can_be_made_it_says_why(tmp_path, layout, own, why):
    if layout == "v2":
        hierarchy(tmp_path)
    elif layout == "cpu only":
        hierarchy(tmp_path, given="cpu")
    elif layout == "taken":  # the group's name is a file: mkdir fails as it would on a read-only parent
        (hierarchy(tmp_path).parent / "outofcore-7").write_text("")
    group, said = make_group(tmp_path, own, "outofcore-7", CAP)
    assert group is None and why in said


def delegated_here() -> bool:
    """Whether this machine gives this process a cgroup v2 memory controller."""
    own = own_cgroup(SELF.read_text()) if SELF.exists() else None
    mine = ROOT / (own or "/").lstrip("/")
    return own not in (None, "/") and "memory" in (mine / "cgroup.controllers").read_text(errors="ignore")


def test_without_a_delegated_v2_memory_controller_the_cap_is_rlimit_data_and_says_why(tmp_path):
    if delegated_here():
        pytest.skip("this machine may cap with a cgroup: the RLIMIT_DATA fallback shows where it cannot")
    import numpy as np

    np.save(tmp_path / "a.npy", np.zeros((1000, 4)))
    store = {"backend": "memmap", "path": str(tmp_path / "a.npy"), "dataset": "", "nbytes": 32000}
    assert run_naive(store, 256).how == "rlimit_data"  # the child capped itself, for real
    from outofcore.hugearray.cgroup import cgroup_cap

    group, why = cgroup_cap(CAP)
    assert group is None and why  # one line, logged beside the RLIMIT_DATA cap
