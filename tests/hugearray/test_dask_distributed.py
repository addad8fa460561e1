"""Engine dask_distributed: every store reduced by dask.distributed worker processes gives
the exact statistics; a worker killed mid-reduce gives a retried exact answer or a clear
failure; the workflow runs it on a LocalCluster and records the workers. One LocalCluster
serves the tests of this module (a start is a few seconds)."""

import os
import signal
import socket
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from conftest import load_config
from outofcore.hugearray.cluster_bench import rss_growth, worker_counts
from outofcore.hugearray.dask_cluster import ClusterSpec, make_cluster, pieces_in, running_cluster
from outofcore.hugearray.figures import headline, load_measurements
from outofcore.hugearray.job import HugeArrayJob, reduce_array, run, write_array
from outofcore.hugearray.node_probe import NodeProbe, probe_nodes, probe_plan
from outofcore.hugearray.stores.reading import PieceReader
from outofcore.hugearray.stores.registry import BACKENDS
from outofcore.limits.machine import this_machine
from outofcore.plan.source_specs import check_sources
from real_files import weather_csv

SUFFIX = {name: store.suffix for name, store in BACKENDS.items()}


def job_for(tmp_path: Path, backend: str, size_mb: int = 4, block_mb: int = 1) -> HugeArrayJob:
    return HugeArrayJob(tmp_path / f"{backend}{SUFFIX[backend]}", backend, size_mb=size_mb, columns=3,
                        block_mb=block_mb, chunk_kb=64, compression="blosc2:lz4", seed=11, threads=2,
                        engine="dask_distributed")  # fmt: skip


@pytest.fixture(scope="module")
def workers():
    """Two worker processes for the module, started as the job starts them."""
    with running_cluster({"kind": "local", "workers": 2, "threads_per_worker": 2}) as started:
        yield started


@pytest.mark.slow
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_every_store_reduced_by_worker_processes_is_exact(tmp_path, workers, backend):
    job = job_for(tmp_path, backend)
    _, exact = write_array(job)
    _, stats, _ = reduce_array(job)
    assert stats.rows == exact.rows and stats.matches(exact)


@pytest.mark.slow
def test_missing_values_are_counted_by_the_workers(tmp_path, workers):
    source = check_sources([{"file": str(weather_csv(tmp_path / "w.csv")), "columns": ["temp", "count"]}])[0]
    job = HugeArrayJob(tmp_path / "array.h5", "h5py", size_mb=2, columns=2, block_mb=1, chunk_kb=64,
                       compression="blosc2:lz4", seed=3, threads=2, engine="dask_distributed",
                       data=source.label, source=source.as_params())  # fmt: skip
    measurement, stats, exact = run(job)
    assert measurement.check == "ok" and stats.missing.sum() > 0
    assert (stats.missing == exact.missing).all()


@pytest.mark.slow
def test_a_worker_killed_mid_reduce_gives_the_exact_answer_or_fails(tmp_path, workers):
    from distributed import KilledWorker, default_client

    job = job_for(tmp_path, "h5py", size_mb=24, block_mb=1)  # 24 tasks
    _, exact = write_array(job)
    client = default_client()
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    killed = []

    def kill_once(rows: int) -> None:  # at the first block back: the others are in flight
        if not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    try:
        stats = reduce_array_with(job, kill_once)
    except KilledWorker:  # a clear failure is allowed; a wrong answer is not
        pass
    else:
        assert stats.matches(exact)
    assert killed == [victim]
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it: the module's cluster is whole again


@pytest.mark.slow
def test_each_worker_node_measures_its_own_limits(tmp_path, workers):
    from distributed import default_client

    probe = NodeProbe(str(tmp_path), memcpy_mb=8, disk_mb=8, repeats=1)
    frame = probe_nodes(default_client(), probe)
    values = frame.set_index("name")["value"]
    assert set(frame["host"]) == {socket.gethostname()} and values["machine"] == this_machine()
    assert {"copy_1t", "copy_4t", "warm_read", "cold_read"} <= set(values.index)  # 2 workers x 2 threads
    assert probe_nodes(default_client(), replace(probe, known=frozenset({socket.gethostname()}))).empty


def test_one_worker_per_node_measures_it_over_its_machines_threads():
    places = {"w1": ("n1", "m"), "w2": ("n2", "m"), "w3": ("n2", "m"), "w4": ("n3", "")}
    nthreads = {"w1": 1, "w2": 2, "w3": 2, "w4": 4}
    assert probe_plan(places, nthreads, frozenset({"n3"})) == [("w1", [1, 5]), ("w2", [1, 4, 5])]


def reduce_array_with(job: HugeArrayJob, advance):
    from outofcore.hugearray.dask_cluster import reduce_distributed

    return reduce_distributed(job.store, job.path, job.spec, advance)


def test_a_task_reads_the_pieces_of_its_block():
    class Chunks(PieceReader):
        pieces = range(0, 100, 8)

    class Blocks(PieceReader):
        pieces = iter([(0, 32), (32, 64)])

    assert pieces_in(Chunks.__new__(Chunks), 32, 64) == [32, 40, 48, 56]
    assert pieces_in(Chunks.__new__(Chunks), 96, 100) == [96]
    assert pieces_in(Blocks.__new__(Blocks), 32, 64) == [(32, 64)]


def test_an_unknown_cluster_kind_is_named():
    with pytest.raises(ValueError, match=r"hugearray\.cluster\.kind: 'pbs'"):
        make_cluster(ClusterSpec.from_config({"kind": "pbs"}), Path())


def test_workflow_runs_the_engine_on_a_local_cluster(workflow_runner):
    tiny = load_config("hugearray_tiny.yaml")["hugearray"]
    config = {"limits": {"memcpy_mb": 16, "disk_mb": 8, "repeats": 1},  # the limits job: brief
              "hugearray": {**tiny, "sizes_mb": [2], "backends": ["h5py"], "engines": ["dask_distributed"],
                            "cluster": {"kind": "local", "workers": 2}}}  # fmt: skip
    job = Path("results/hugearray/2/uniform_int16/dask_distributed/h5py")
    workflow_runner(config, f"{job}.csv")  # the job alone: its plots are drawn by other tests' runs
    out = workflow_runner.workdir / job
    row = pd.read_csv(f"{out}.csv").iloc[0]
    assert row["check"] == "ok" and row["engine"] == "dask_distributed"
    assert row["workers"] == 2 and row["worker_nodes"].split(";") == [socket.gethostname()] * 2
    assert all(0 < float(mb) < 1024 for mb in row["worker_peak_rss_mb"].split(";"))
    assert row["cluster_start_seconds"] > 0 and row["worker_threads"] == "1;1"
    assert pd.read_csv(f"{out}.node_limits.csv").empty  # the workers' node is the limits job's: measured
    (reduce,) = [
        h for h in headline(load_measurements([f"{out}.csv"]), 2, True) if h.figure.startswith("out")
    ]
    assert reduce.note.startswith(f"2 workers on 1 node(s) ({socket.gethostname()})")
    assert reduce.nodes == f"{socket.gethostname()}:2"  # the summary bounds it by this node's limits
    naive = pd.read_csv(f"{out}.naive.csv")  # rides on the same job
    assert naive[["backend", "engine", "check"]].values.tolist() == [["h5py", "naive", "ok"]]
    log = workflow_runner.workdir / "logs" / "hugearray_2_uniform_int16_dask_distributed_h5py.log"
    assert "workers up in" in log.read_text()


def test_the_bench_sweeps_worker_counts_up_to_the_cores():
    assert worker_counts(1) == [1] and worker_counts(2) == [1, 2]
    assert worker_counts(6) == [1, 2, 4, 6] and worker_counts(8) == [1, 2, 4, 8]


def test_the_bench_reports_each_workers_rss_growth_over_sizes():
    frame = pd.DataFrame({"backend": ["h5py"] * 4, "workers": [1, 2, 1, 2],
                          "size_mb": [1024, 1024, 4096, 4096],
                          "max_worker_rss_mb": [230.0, 231.0, 232.5, 240.0]})  # fmt: skip
    growth = rss_growth(frame).set_index("workers")["rss_growth_mb"]
    assert growth.to_dict() == {1: 2.5, 2: 9.0}
