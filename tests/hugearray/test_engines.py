"""The stores people pick instead of this project's (Zarr v3, the blosc2 NDArray) and the
reduce engines (the stage's threads, dask.array, blosc2's own reductions): every engine
on every store it runs on gives the exact statistics, a changed value is caught, a Zarr
store killed mid-write leaves nothing under its name, and the stage runs them all."""

import os
import signal
import subprocess
import sys
import time

import blosc2
import numpy as np
import pandas as pd
import pytest
import zarr

from conftest import REPO, load_config
from outofcore.hugearray import job as hugearray
from outofcore.hugearray.engines import ENGINES, get_engine
from outofcore.hugearray.figures import headline, load_measurements
from outofcore.hugearray.job import HugeArrayJob
from outofcore.hugearray.stores.registry import BACKENDS
from outofcore.plan import hugearray_stores

SMALL = {"size_mb": 4, "columns": 3, "block_mb": 1, "chunk_kb": 64}  # 5 blocks, the last partial


def job_for(tmp_path, backend: str, engine: str = "threads", **options) -> HugeArrayJob:
    """The job of a backend or of a job label (`zarr.tuned`: the zarr store, tuned)."""
    name = hugearray_stores.backend_of(backend)
    options.setdefault("setting", hugearray_stores.setting_of(backend, engine))
    path = tmp_path / f"array{BACKENDS[name].suffix}"
    return HugeArrayJob(
        path, name, **SMALL, compression="blosc2:lz4", seed=3, threads=2, engine=engine, **options
    )


def test_the_rules_and_the_engines_agree():
    assert list(ENGINES) == list(hugearray_stores.ENGINES)
    pairs = hugearray_stores.jobs(list(BACKENDS), list(ENGINES))
    assert (
        ("blosc2", "blosc2") in pairs
        and ("blosc2.tuned", "blosc2") in pairs
        and ("zarr", "blosc2") not in pairs
    )
    assert {backend for backend, engine in pairs if engine == "dask"} == {
        label for name in BACKENDS for label in (name, f"{name}.tuned")
    }
    assert ("tables", "threads") in pairs and ("tables.tuned", "threads") not in pairs  # pipeline only


# dask_distributed runs on a cluster the job starts: its own tests share one (test_dask_distributed.py)
PAIRS = [
    pair for pair in hugearray_stores.jobs(list(BACKENDS), list(ENGINES)) if pair[1] != "dask_distributed"
]


@pytest.mark.parametrize("backend,engine", PAIRS, ids=[f"{b}-{e}" for b, e in PAIRS])
def test_every_engine_on_every_store_is_exact(tmp_path, backend, engine):
    measurement, stats, exact = hugearray.run(job_for(tmp_path, backend, engine))
    assert measurement.check == "ok" and measurement.engine == engine
    assert measurement.setting == hugearray_stores.setting_of(backend, engine)
    np.testing.assert_array_equal(stats.total, exact.total.astype(np.float64))
    np.testing.assert_array_equal(stats.mean, exact.mean)


def test_zarr_is_format_3_with_blosc_and_shards_of_one_block(tmp_path):
    plain = job_for(tmp_path / "plain", "zarr")
    sharded = job_for(tmp_path / "sharded", "zarr", zarr_shards=True)
    for job in (plain, sharded):
        assert hugearray.run(job)[0].check == "ok"
    array = zarr.open_array(plain.path, mode="r")
    assert array.metadata.zarr_format == 3 and array.chunks == (plain.layout.chunk_rows, 3)
    codec = array.compressors[0]
    assert (codec.cname.value, codec.shuffle.value, codec.clevel) == ("lz4", "shuffle", 5)
    assert hugearray.run(plain)[0].compression == "blosc:lz4"  # c-blosc 1 under zarr's BloscCodec
    assert len(list((plain.path / "c").rglob("*"))) > 40  # a file per chunk (and a folder per row)
    shards = [f for f in (sharded.path / "c").rglob("*") if f.is_file()]
    assert len(shards) == 5  # one per block
    assert zarr.open_array(sharded.path, mode="r").shards == (sharded.layout.block_rows, 3)


def test_blosc2_store_has_the_configured_chunks_and_blocks(tmp_path):
    job = job_for(tmp_path, "blosc2", blosc2_block_kb=8)
    hugearray.write_array(job)
    array = blosc2.open(str(job.path), mode="r")
    assert array.chunks == (job.layout.chunk_rows, 3) and array.blocks == (256, 3)  # 8 KiB of 24-byte rows


@pytest.mark.parametrize("backend,engine", [("zarr", "dask"), ("blosc2", "blosc2"), ("blosc2", "dask")])
def test_a_changed_value_is_caught_by_every_engine(tmp_path, backend, engine):
    job = job_for(tmp_path, backend, engine)
    _, exact = hugearray.write_array(job)
    if backend == "zarr":
        array = zarr.open_array(job.path, mode="r+")
    else:
        array = blosc2.open(str(job.path), mode="a")
    array[job.layout.rows - 5, 1] = array[job.layout.rows - 5, 1] + 1
    del array
    _, stats, _ = hugearray.reduce_array(job)
    assert not stats.matches(exact)
    assert stats.total[1] == exact.total[1] + 1 and stats.total[0] == exact.total[0]


def test_an_engine_refused_by_the_store_stops_before_writing(tmp_path):
    job = job_for(tmp_path, "zarr", "blosc2")
    with pytest.raises(ValueError, match="reduce engine 'blosc2' does not run on the zarr store"):
        hugearray.run(job)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="unknown reduce engine 'spark'"):
        get_engine("spark", BACKENDS["zarr"])


KILLED_WRITER = """
import sys
from outofcore.hugearray import job as hugearray
job = hugearray.HugeArrayJob(sys.argv[1], "zarr", 512, 8, 1, 16, "blosc2:lz4", 1, threads=1)
hugearray.write_array(job)
"""


def test_a_zarr_store_killed_mid_write_leaves_nothing_and_is_cleaned(tmp_path):
    """SIGKILL to the writer's process group while chunks are being written: no store
    under the real name; the next job at that path removes the partial directory."""
    path = tmp_path / "array.zarr"
    env = {**os.environ, "PYTHONPATH": str(REPO / "scripts")}
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path)], env=env, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and writer.poll() is None:
            partial = list(tmp_path.glob(".array.zarr.partial-*"))
            if partial and sum(1 for f in partial[0].rglob("*") if f.is_file()) > 20:
                break
            time.sleep(0.05)
        assert writer.poll() is None, "the writer finished before it could be killed"
        os.killpg(writer.pid, signal.SIGKILL)
    finally:
        writer.wait(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    assert not path.exists()
    assert [p.name.startswith(".array.zarr.partial-") for p in tmp_path.iterdir()] == [True]
    measurement, _, _ = hugearray.run(job_for(tmp_path, "zarr"))  # the next run, at the same path
    assert measurement.check == "ok"
    assert [p.name for p in tmp_path.iterdir()] == ["array.zarr"]


def test_memory_growth_is_judged_per_store_and_engine(tmp_path):
    rows = [("zarr", "dask", 256, 300.0), ("zarr", "dask", 4096, 420.0), ("zarr", "threads", 256, 300.0),
            ("zarr", "threads", 4096, 310.0), ("blosc2", "blosc2", 4096, 250.0)]  # fmt: skip
    paths = []
    for i, (backend, engine, size, rss) in enumerate(rows):
        path = tmp_path / f"{i}.csv"
        frame = pd.DataFrame([{"backend": backend, "engine": engine, "size_mb": size, "peak_rss_mb": rss,
                               "compression": "x", "check": "ok"}])  # fmt: skip
        frame.to_csv(path, index=False)
        paths.append(path)
    frame = load_measurements(paths).set_index(["backend", "engine", "size_mb"])
    assert frame.loc[("zarr", "dask", 4096), "bounded"] == "NO"
    assert frame.loc[("zarr", "dask", 4096), "rss_growth_mb"] == 120
    assert frame.loc[("zarr", "threads", 4096), "bounded"] == "yes"
    assert frame.loc[("blosc2", "blosc2", 4096), "bounded"] == "-"


def test_headline_names_every_store_and_engine_and_the_tutorials_way(tmp_path):
    rows = [("tables", "threads", 1.0, 2.0), ("tables", "dask", 0.9, 0.3),
            ("tables_filter", "threads", 0.4, 0.9), ("zarr", "dask", 0.6, 0.5)]  # fmt: skip
    paths = []
    for i, (backend, engine, write, reduce) in enumerate(rows):
        for size, rss in ((256, 300.0), (4096, 300.0 + 100 * (backend == "zarr"))):
            path = tmp_path / f"{i}-{size}.csv"
            row = {"backend": backend, "engine": engine, "size_mb": size, "compression": "blosc2:lz4",
                   "write_gbps": write, "reduce_gbps": reduce, "peak_rss_mb": rss, "check": "ok",
                   "rows": size * 2**14, "columns": 8, "file_bytes": size * 2**18}  # fmt: skip
            pd.DataFrame([row]).to_csv(path, index=False)
            paths.append(path)
    lines = headline(load_measurements(paths), threads=2, cold_read=True)
    writes = {h.method: h for h in lines if h.job == "write an array larger than memory"}
    reduces = {h.method: h for h in lines if h.job == "reduce an array larger than memory"}
    assert (
        set(writes) == {"tables", "tables_filter (default)", "zarr (default)"}
        and writes["tables"].value == 1.0
    )  # its threads job
    assert set(reduces) == {
        "tables",
        "tables + dask (default)",
        "tables_filter (default)",
        "zarr + dask (default)",
    }
    assert [h.method for h in lines if h.tutorial] == ["tables_filter (default)", "tables_filter (default)"]
    assert (
        "not shown to be out of core" in reduces["zarr + dask (default)"].note
        and reduces["tables"].note == ""
    )
    assert {h.method: h.setting for h in lines}["tables"] == "pipeline"


def test_stage_runs_the_new_stores_and_engines(workflow_runner):
    """The rules of the new suffixes and engines (the threads engine on them is above)."""
    tiny = load_config("hugearray_tiny.yaml")
    config = {
        "limits": tiny["limits"],
        "hugearray": {
            **tiny["hugearray"],
            "sizes_mb": [2],
            "backends": ["zarr", "blosc2"],
            "engines": ["dask", "blosc2"],
        },
    }
    workflow_runner(config, "hugearray_plots")
    out = workflow_runner.workdir / "results" / "hugearray"
    summary = pd.read_csv(out / "summary.csv")
    jobs = set(zip(summary["backend"], summary["engine"], summary["setting"], strict=True))
    assert jobs == {
        (backend, engine, setting)
        for backend, engine in (("zarr", "dask"), ("blosc2", "dask"), ("blosc2", "blosc2"))
        for setting in ("default", "tuned")
    }
    assert set(summary["check"]) == {"ok"}
    assert (out / "2" / "uniform_int16" / "dask" / "zarr.tuned.csv").exists()
    headline_rows = pd.read_csv(out / "headline.csv")
    assert set(headline_rows["method"]) == {
        "zarr (default)",
        "zarr (tuned)",
        "blosc2",
        *(f"{name} ({setting})" for name in ("zarr + dask", "blosc2 + dask", "blosc2 + blosc2")
          for setting in ("default", "tuned")),
    }  # fmt: skip
    assert set(headline_rows["setting"]) == {"default", "tuned", "pipeline"}
    leftovers = [p for p in out.rglob("*") if p.suffix in (".zarr", ".b2nd") or ".partial-" in p.name]
    assert leftovers == []
