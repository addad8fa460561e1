"""Engine dask_distributed with `cluster.kind: slurm` on a real two-node test SLURM: two
slurmd (`-N n1`, `-N n2`) on this machine, brought up by tests/cluster/slurm.sh with
SLURM_TEST_NODES=2 for this module only (under the same machine-wide lock as the
one-node cluster of test_slurm.py). The workflow's job submits one SLURM job per worker
(dask-jobqueue); the workers must run on both nodes and the answer must be exact; a worker
killed mid-reduce gives the exact answer again or a clear failure, never a wrong one."""

import os
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from test_slurm import CANNOT_RUN, CLUSTER_SCRIPT, LOCK, running, skip_or_fail, wait_for_lock

from conftest import load_config
from outofcore.hugearray.dask_cluster import reduce_distributed, running_cluster
from outofcore.hugearray.figures import headline, load_measurements
from outofcore.hugearray.job import HugeArrayJob, write_array
from outofcore.limits.machine import this_machine
from outofcore.summary.headline import headline_frame
from outofcore.summary.table import summarize

# one worker per node: exclusive jobs (two 1-core jobs would share a node otherwise)
SLURM_WORKERS = {"kind": "slurm", "workers": 2, "threads_per_worker": 1, "memory_per_worker_mb": 1024,
                 "job_extra_directives": ["--exclusive"], "start_timeout_s": 180,
                 "walltime": "00:10:00"}  # fmt: skip


LIMITS = {"memcpy_mb": 16, "disk_mb": 8, "repeats": 1}  # the limits job the stage waits for: brief


def two_node_script(command: str, directory: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SLURM_TEST_DIR": str(directory), "SLURM_TEST_NODES": "2"}
    return subprocess.run(["bash", str(CLUSTER_SCRIPT), command], env=env, capture_output=True, text=True,
                          timeout=900)  # fmt: skip


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[Path]:
    """The two-node cluster's slurm.conf, the cluster up for this module only."""
    directory = Path(tempfile.gettempdir()) / "ltm-slurm-2nodes"
    lock = os.open(LOCK, os.O_RDONLY | os.O_CREAT, 0o644)
    started = False
    try:
        wait_for_lock(lock)
        up = two_node_script("up", directory)
        if up.returncode == CANNOT_RUN:
            skip_or_fail(up.stderr.strip().splitlines()[-1])
        started = True
        assert up.returncode == 0, f"slurm.sh up (2 nodes) failed:\n{up.stdout}\n{up.stderr}"
        yield directory / "slurm.conf"
    finally:
        if started:
            pids = [p.read_text().strip() for p in directory.glob("*.pid")]
            down = two_node_script("down", directory)
            assert down.returncode == 0, f"slurm.sh down failed:\n{down.stderr}"
            assert not [pid for pid in pids if pid and running(pid)], "a test cluster daemon still runs"
        os.close(lock)


def test_workflow_reduces_one_array_on_two_slurm_nodes(two_nodes, workflow_runner, monkeypatch):
    monkeypatch.setenv("SLURM_CONF", str(two_nodes))  # the job's sbatch finds the test cluster
    tiny = load_config("hugearray_tiny.yaml")["hugearray"]
    stage = {**tiny, "sizes_mb": [2], "backends": ["h5py"], "engines": ["dask_distributed"]}
    config = {"limits": LIMITS, "hugearray": {**stage, "cluster": SLURM_WORKERS}}
    job = Path("results/hugearray/2/uniform_int16/dask_distributed/h5py")
    workflow_runner(config, f"{job}.csv")  # the job alone: its plots are drawn by other tests' runs
    out, root = workflow_runner.workdir / job, workflow_runner.workdir / "results"
    row = pd.read_csv(f"{out}.csv").iloc[0]
    assert row["check"] == "ok" and row["workers"] == 2 and row["worker_threads"] == "1;1"
    assert sorted(row["worker_nodes"].split(";")) == ["n1", "n2"]  # SLURM's node names: both nodes
    assert all(0 < float(mb) < 1024 for mb in row["worker_peak_rss_mb"].split(";"))
    # each node measured on it (n1 and n2 are not the limits job's node), both one machine: this one
    nodes = pd.read_csv(f"{out}.node_limits.csv", dtype={"host": str})
    machines = nodes[nodes["name"] == "machine"].set_index("host")["value"].to_dict()
    assert machines == {"n1": this_machine(), "n2": this_machine()}
    assert {"copy_2t", "cold_read", "warm_read"} <= set(nodes.loc[nodes["host"] == "n1", "name"])
    (reduce,) = [
        h for h in headline(load_measurements([f"{out}.csv"]), 2, True) if h.figure.startswith("out")
    ]
    assert reduce.note.startswith("2 workers on 2 node(s) (n1, n2)")
    summary = summarize(pd.read_csv(root / "limits.csv"), headline_frame([reduce]), nodes).iloc[0]
    # the two slurmd share this machine's disk: one disk's read bounds the reduce, not the sum of two
    assert "one machine: nodes n1, n2 share its disk" in summary["limit"]
    cached = nodes.loc[nodes["name"] == "cold_read", "how"].str.startswith("CACHED").any()
    assert summary["bound"] == ("reference" if cached else "yes")  # a cache's read is no bound


def test_a_worker_killed_mid_reduce_on_slurm_gives_the_exact_answer_or_fails(
    two_nodes, tmp_path, monkeypatch
):
    from distributed import KilledWorker, default_client

    monkeypatch.setenv("SLURM_CONF", str(two_nodes))
    monkeypatch.chdir(tmp_path)  # the worker jobs' logs land here
    job = HugeArrayJob(tmp_path / "h5py.h5", "h5py", size_mb=24, columns=3, block_mb=1, chunk_kb=64,
                       compression="blosc2:lz4", seed=5, threads=1, engine="dask_distributed")  # fmt: skip
    _, exact = write_array(job)
    with running_cluster(SLURM_WORKERS) as workers:
        pids = default_client().run(os.getpid)  # the worker processes, on this machine here
        victim = sorted(pids.values())[0]
        killed: list[int] = []

        def kill_once(rows: int) -> None:  # at the first block back: the others are in flight
            if not killed:
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        try:
            stats = reduce_distributed(job.store, job.path, job.spec, kill_once)
        except KilledWorker:  # a clear failure is allowed; a wrong answer is not
            stats = None
        assert killed == [victim]
        assert stats is None or stats.matches(exact)
    assert workers.count >= 1
