"""A memory cap per process, and the naive way (the whole array loaded at once) run under it.

The cap (`hugearray.memory_cap_mb`) is what proves out of core: the stage's job runs
under it, and so does a child process that loads the same store whole (`np.load`, h5py or
PyTables `[:]`, zarr or blosc2 `[:]`), the way a first script would. The out-of-core
reduce finishes under the cap; the naive load is stopped by it, fast (its allocation
fails at once) and is reported with the memory it needed.

How the cap is enforced (`Cap.how`) depends on the machine:

- ``cgroup_v2``: where a delegated cgroup v2 subtree with the memory controller lets
  the process make a group (`outofcore.hugearray.cgroup`), it moves itself into a new
  one with memory.max = the cap: everything it holds counts, its page cache too (which
  the kernel reclaims first); past the cap the kernel kills it (the naive child's row
  then says "killed").
- ``rlimit_data``: elsewhere (cgroup v1, no delegation, a process Snakemake started in
  a system cgroup), the process's private writable memory (`RLIMIT_DATA`: heap,
  anonymous mappings, thread stacks; not files mapped shared, so a numpy.memmap of the
  store does not count) is held to what it has once its libraries are loaded plus
  (cap - its resident memory then): the resident memory can grow to about the cap and
  no further, an allocation beyond it fails at once with `MemoryError`. Only the soft
  limit is set, per process: a child lifts it, loads its own libraries and sets its own
  (`apply_cap`).
- ``none``: no cap configured, or no way to enforce one (not Linux).

The log says which was used and, for ``rlimit_data``, why not a cgroup.
"""

import errno
import importlib
import json
import math
import os
import re
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outofcore.hugearray.cgroup import cgroup_cap
from outofcore.plan.sizing import MiB

STATUS = Path("/proc/self/status")
NAIVE_PIECE_ROWS = 1 << 16  # the loaded array's statistics are taken this many rows at a time
NAIVE_TIMEOUT_S = 120  # a load that fits the cap reads the whole store: bounded by the disk
STOPPED = "stopped at the cap"  # how a naive row's check begins when the cap stopped it


@dataclass(frozen=True)
class Cap:
    mb: float  # NaN: no cap
    how: str  # cgroup_v2 | rlimit_data | none
    detail: str  # one line for the log: the limit set, or why none

    @property
    def active(self) -> bool:
        return self.how != "none"


def vm_status() -> dict[str, int]:
    """VmData, VmRSS and VmHWM of this process, bytes (empty where /proc is missing)."""
    try:
        text = STATUS.read_text()
    except OSError:
        return {}
    found = re.findall(r"^(VmData|VmRSS|VmHWM):\s+(\d+) kB", text, re.M)
    return {key: int(value) * 1024 for key, value in found}


def apply_cap(cap_mb: float | None) -> Cap:
    """Cap this process's memory at about `cap_mb` MiB of resident memory (see module)."""
    if not cap_mb:
        return Cap(math.nan, "none", "no memory cap (hugearray.memory_cap_mb not set)")
    status = vm_status()
    if not status:
        return Cap(math.nan, "none", f"no memory cap: cannot read {STATUS} on this system")
    room = cap_mb * MiB - status["VmRSS"]
    if room <= 0:
        raise ValueError(
            f"hugearray.memory_cap_mb: {cap_mb:g} MiB is below what the process holds once its "
            f"libraries are loaded ({status['VmRSS'] / MiB:.0f} MiB resident): raise it"
        )
    group, why = cgroup_cap(int(cap_mb * MiB))
    if group is not None:
        moved = f"memory cap {cap_mb:g} MiB enforced by cgroup v2: this process moved into {group}"
        return Cap(float(cap_mb), "cgroup_v2", f"{moved}, memory.max = the cap (its page cache counts too)")
    limit = status["VmData"] + int(room)
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    return Cap(
        float(cap_mb),
        "rlimit_data",
        f"memory cap {cap_mb:g} MiB enforced by RLIMIT_DATA: private memory {limit / MiB:.0f} MiB "
        f"(held {status['VmData'] / MiB:.0f} MiB + cap - resident {status['VmRSS'] / MiB:.0f} MiB); "
        f"not a cgroup: {why}",
    )


class CapTooLow(MemoryError):
    """The out-of-core job itself needed more than the cap."""


def out_of_memory(error: BaseException | None) -> bool:
    """True if `error`, or one it was raised from, is an allocation refused (MemoryError,
    or ENOMEM from the OS: a mapping, a thread's stack, which Python reports as a
    RuntimeError when a thread cannot start)."""
    while error is not None:
        if isinstance(error, MemoryError) or (isinstance(error, OSError) and error.errno == errno.ENOMEM):
            return True
        if isinstance(error, RuntimeError) and "can't start new thread" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def lift_cap() -> None:
    """The soft RLIMIT_DATA back to the hard limit (a child, before it sets its own cap)."""
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    resource.setrlimit(resource.RLIMIT_DATA, (hard, hard))


@dataclass
class NaiveResult:
    """What the child loading the whole array reported."""

    stopped: bool  # the cap stopped it (MemoryError, or killed)
    seconds: float  # from the start of the load to its end or to the failure
    peak_rss_mb: float  # the child's peak RSS, VmHWM (NaN: killed before it said)
    needed_mb: float  # resident memory before the load + the whole array
    how: str  # the child's Cap.how
    stats: dict[str, Any] | None  # rows, total, low, high when the load fitted
    error: str


def run_naive(store: dict[str, Any], cap_mb: float | None) -> NaiveResult:
    """Load a store whole in a child process under the same cap (`main`); `store`: its
    backend, path, dataset (HDF5 node), nbytes and threads."""
    scripts = str(Path(__file__).parents[2])  # the child imports this module, not the stage
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [scripts, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "outofcore.hugearray.memcap", json.dumps(store), str(cap_mb or 0)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        out, err = proc.communicate(timeout=NAIVE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RuntimeError(f"the naive load did not end in {NAIVE_TIMEOUT_S} s") from None
    said = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if proc.returncode == 0 and said and "stopped" in said[-1]:
        return NaiveResult(**said[-1])
    if said and proc.returncode < 0:  # killed in the load (a library aborting, an OOM killer): stopped
        how = f"{said[0]['how']}, exit {proc.returncode}"
        return NaiveResult(True, time.perf_counter() - started, math.nan, said[0]["needed_mb"], how, None,
                           err.strip()[-300:])  # fmt: skip
    last = (err.strip().splitlines() or ["no message"])[-1]  # the exception's line
    raise RuntimeError(f"the naive load failed (exit {proc.returncode}): {last}")


LIBRARIES = {"memmap": [], "h5py": ["h5py", "hdf5plugin"], "tables": ["tables"], "tables_filter": ["tables"],
             "zarr": ["zarr"], "blosc2": ["blosc2"]}  # fmt: skip


def load_whole(store: dict[str, Any]) -> Any:
    """The whole array in memory, the naive way for its store (its library, `[:]`)."""
    import numpy as np

    backend, path = store["backend"], store["path"]
    if backend == "memmap":
        return np.load(path)
    if backend == "h5py":
        import h5py
        import hdf5plugin  # noqa: F401 - the blosc2 filter for HDF5

        with h5py.File(path, "r") as h5:
            return h5[store["dataset"]][:]
    if backend in ("tables", "tables_filter"):
        import tables

        with tables.open_file(path, "r") as h5:
            return h5.get_node("/", store["dataset"])[:]
    if backend == "zarr":
        import zarr

        return zarr.open_array(path, mode="r")[:]
    if backend == "blosc2":
        import blosc2

        return blosc2.open(path, mode="r")[:]
    raise ValueError(f"no naive load for the {backend} store")


def main(store_json: str, cap_mb: float) -> None:
    """The child: its own cap once its libraries are loaded, then the store loaded whole.
    Prints what it is about to need first (a load that aborts still has said it), then
    the result: `NaiveResult` as JSON lines."""
    lift_cap()  # the parent's limit counted the parent's memory; this process sets its own
    import numpy  # noqa: F401 - loaded before the cap, as the job's libraries are

    store = json.loads(store_json)
    for name in LIBRARIES[store["backend"]]:  # loaded before the cap, as the job's are
        importlib.import_module(name)
    cap = apply_cap(cap_mb)
    needed = vm_status().get("VmRSS", 0) / MiB + store["nbytes"] / MiB
    print(json.dumps({"needed_mb": needed, "how": cap.how}), flush=True)
    started = time.perf_counter()
    try:
        stats = naive_stats(load_whole(store))
    except Exception as error:  # MemoryError, or a library's error caused by one
        if not out_of_memory(error):
            raise
        result = NaiveResult(True, time.perf_counter() - started, own_peak_mb(), needed, cap.how, None,
                             f"{type(error).__name__}: {error}"[:300])  # fmt: skip
    else:
        result = NaiveResult(False, time.perf_counter() - started, own_peak_mb(), needed, cap.how, stats, "")
    print(json.dumps(result.__dict__), flush=True)


def naive_stats(array: Any) -> dict[str, Any]:
    """Rows, and per column the sum, min and max of the present values and the missing
    ones, a piece of rows at a time: no copy of the whole array beside it."""
    import numpy as np

    columns = array.shape[1]
    total, low, high = np.zeros(columns), np.full(columns, np.inf), np.full(columns, -np.inf)
    missing = np.zeros(columns, dtype=np.int64)
    for start in range(0, len(array), NAIVE_PIECE_ROWS):
        piece = array[start : start + NAIVE_PIECE_ROWS]
        gone = np.isnan(piece)
        missing += gone.sum(axis=0)
        total += np.where(gone, 0.0, piece).sum(axis=0)
        np.fmin(low, np.where(gone, np.inf, piece).min(axis=0), out=low)
        np.fmax(high, np.where(gone, -np.inf, piece).max(axis=0), out=high)
    return {"rows": len(array), "total": total.tolist(), "low": low.tolist(), "high": high.tolist(),
            "missing": missing.tolist()}  # fmt: skip


def own_peak_mb() -> float:
    """This process's peak RSS, MiB: VmHWM (ru_maxrss would keep the parent's from the fork)."""
    return vm_status().get("VmHWM", 0) / MiB


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
