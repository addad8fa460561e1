"""The memory cap (`memcap`) and the naive way's row (`naive`): a whole-array load in a
child process under the cap is stopped at once and says what it needed; one that fits
loads and gives exact statistics; the plan picks one naive job per size."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_cgroup import delegated_here

from outofcore.hugearray.data import ColumnStats
from outofcore.hugearray.memcap import run_naive
from outofcore.hugearray.naive import naive_check, stopped_at_cap
from outofcore.plan.hugearray_stores import naive_job

REPO = Path(__file__).resolve().parents[2]

MiB = 2**20


def sparse_npy(path, nbytes: int) -> None:
    """A .npy file of `nbytes` of float64 zeros that takes no disk (a sparse file)."""
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(nbytes // 64, 8))
    del array


def test_the_whole_array_is_stopped_at_the_cap(tmp_path):
    if delegated_here():
        pytest.skip("a cgroup v2 memory.max caps here: the load is killed, not refused (test_cgroup)")
    path = tmp_path / "big.npy"
    sparse_npy(path, 1024 * MiB)
    result = run_naive({"backend": "memmap", "path": str(path), "dataset": "", "nbytes": 1024 * MiB}, 256)
    assert result.stopped and result.how == "rlimit_data" and result.stats is None
    assert "Unable to allocate" in result.error  # numpy's own MemoryError, not a kill
    assert 1024 < result.needed_mb < 1024 + 256  # the array plus the interpreter before it
    assert result.peak_rss_mb < 256  # the cap held
    check = naive_check(result, ColumnStats(8), 256)
    assert stopped_at_cap(check) and check.endswith(f"needed {result.needed_mb:.0f} MiB")
    assert "(256 MiB, rlimit_data)" in check


def test_an_array_under_the_cap_loads_with_exact_statistics(tmp_path):
    values = np.random.default_rng(3).integers(0, 2**16, size=(5000, 4)).astype(np.float64)
    np.save(tmp_path / "small.npy", values)
    store = {"backend": "memmap", "path": str(tmp_path / "small.npy"), "dataset": "", "nbytes": values.nbytes}
    result = run_naive(store, 256)
    assert not result.stopped and result.error == ""
    exact = ColumnStats(4, np.int64)
    exact.add_source(values.astype(np.int64))
    assert naive_check(result, exact, 256) == "ok"
    exact.add_source(values[:1].astype(np.int64))  # one row more: the load no longer matches
    assert naive_check(result, exact, 256) == "mismatch"


def test_a_cap_below_the_interpreter_fails_naming_the_key(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((4, 2)))
    with pytest.raises(RuntimeError, match=r"hugearray\.memory_cap_mb: 1 MiB is below"):
        run_naive({"backend": "memmap", "path": str(tmp_path / "a.npy"), "dataset": "", "nbytes": 64}, 1)


def test_one_naive_job_per_size_on_h5py_else_memmap():
    backends, engines = ["tables", "h5py", "memmap"], ["threads", "dask"]
    chosen = [(b, e) for b in backends for e in engines if naive_job(b, e, backends, engines, 512)]
    assert chosen == [("h5py", "threads")]
    assert [
        b for b in ("tables", "memmap") if naive_job(b, "threads", ["tables", "memmap"], ["threads"], 512)
    ] == ["memmap"]
    assert naive_job("blosc2", "blosc2", ["blosc2"], ["blosc2"], 512)  # the only job there is
    assert not naive_job("h5py", "threads", backends, engines, None)  # no cap: no naive row


def test_a_failure_that_is_not_the_cap_is_an_error_not_a_stop(tmp_path):
    missing = {"backend": "memmap", "path": str(tmp_path / "gone.npy"), "dataset": "", "nbytes": 64}
    with pytest.raises(RuntimeError, match=r"the naive load failed \(exit 1\): FileNotFoundError"):
        run_naive(missing, 256)


THREADS_UNDER_A_CAP = """
import resource, threading
from outofcore.hugearray.memcap import out_of_memory
soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
resource.setrlimit(resource.RLIMIT_DATA, (1, hard))  # nothing more may be mapped
try:
    threading.Thread(target=print).start()
except Exception as error:
    print("refused", out_of_memory(error), type(error).__name__)
else:
    print("started")
"""


def test_a_thread_refused_by_the_cap_is_the_cap():
    """Under RLIMIT_DATA a new thread's stack is refused: Python says RuntimeError, and the
    job must read it as the cap (a one-line error naming the key), not as a crash."""
    proc = subprocess.run([sys.executable, "-c", THREADS_UNDER_A_CAP], capture_output=True, text=True,
                          cwd=REPO / "scripts", timeout=60)  # fmt: skip
    assert proc.stdout.split() == ["refused", "True", "RuntimeError"], proc.stdout + proc.stderr
