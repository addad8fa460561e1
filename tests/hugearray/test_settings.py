"""Each tuned setting of the huge-array stage is applied, read from the file or object
itself: Zarr shards in the store's metadata, dask's chunk size in its graph, one pass
over the store where one is claimed, the blosc2 NDArray reduced in three calls; and the
h5py and PyTables files a user writes through the filter pipeline read back to exactly
the pipeline's statistics."""

import os
import re

import h5py
import numpy as np
import pytest
import tables
import zarr

from outofcore.hugearray import job as hugearray
from outofcore.hugearray.engines import dask_array, reduce_dask, tuned_chunk_rows
from outofcore.hugearray.job import HugeArrayJob
from outofcore.hugearray.stores.blosc2_store import open_b2nd, own_reductions
from outofcore.hugearray.stores.layout import Layout, StoreSpec
from outofcore.hugearray.stores.registry import BACKENDS
from outofcore.hugearray.stores.zarr_store import ZarrWriter, zarr_shards
from outofcore.plan import hugearray_stores
from outofcore.plan.source_specs import check_sources
from real_files import weather_csv

SMALL = {"size_mb": 4, "columns": 3, "block_mb": 1, "chunk_kb": 64}  # 5 blocks, the last partial
SMALL_CHUNK_ROWS = Layout.from_sizes(**SMALL).chunk_rows


def job_for(tmp_path, backend: str, engine: str = "threads", setting: str = "") -> HugeArrayJob:
    path = tmp_path / f"{backend}-{engine}-{setting}{BACKENDS[backend].suffix}"
    return HugeArrayJob(
        path, backend, **SMALL, compression="blosc2:lz4", seed=3, threads=2, engine=engine, setting=setting
    )


def test_job_labels_name_the_setting_and_the_paths_stay():
    assert hugearray_stores.setting_of("zarr", "threads") == "default"
    assert hugearray_stores.setting_of("zarr.tuned", "threads") == "tuned"
    assert hugearray_stores.setting_of("tables", "threads") == "pipeline"
    assert hugearray_stores.setting_of("tables.tuned", "dask") == "tuned"  # dask over the pipeline's file
    with pytest.raises(ValueError, match="no tuned setting"):
        hugearray_stores.setting_of("tables.tuned", "threads")
    pattern = hugearray_stores.backends_stored_as(".zarr")
    assert re.fullmatch(pattern, "zarr") and re.fullmatch(pattern, "zarr.tuned")
    assert not re.fullmatch(pattern, "zarr.other")
    job = "results/hugearray/{size_mb}/{data}/{engine}/{backend}"
    tables_ = hugearray_stores.job_tables(
        job, [256], ["d"], ["tables", "zarr"], ["threads"], settings=["tuned"]
    )
    assert tables_ == [
        "results/hugearray/256/d/threads/tables.csv",
        "results/hugearray/256/d/threads/zarr.tuned.csv",
    ]


def test_a_setting_the_store_does_not_have_is_refused(tmp_path):
    with pytest.raises(
        ValueError, match=r"hugearray\.settings: the tables store with engine threads runs at pipeline"
    ):
        job_for(tmp_path, "tables", setting="tuned")
    with pytest.raises(ValueError, match="default or tuned, not 'pipeline'"):
        job_for(tmp_path, "zarr", setting="pipeline")


@pytest.mark.slow  # zarr's default writes (and syncs) a file per chunk
def test_tuned_zarr_with_small_chunks_is_sharded_per_block_and_default_is_zarrs_own(tmp_path):
    tuned, default = job_for(tmp_path, "zarr", setting="tuned"), job_for(tmp_path, "zarr", setting="default")
    for job in (tuned, default):
        assert hugearray.run(job)[0].check == "ok"
    sharded = zarr.open_array(tuned.path, mode="r")
    assert sharded.shards == (tuned.layout.block_rows, 3) and sharded.chunks == (tuned.layout.chunk_rows, 3)
    assert sharded.metadata.codecs[0].to_dict()["name"] == "sharding_indexed"
    assert zarr.config.get("async.concurrency") == 10  # the default job set zarr's own back
    plain = zarr.open_array(default.path, mode="r")
    assert plain.shards is None and plain.chunks == (default.layout.chunk_rows, 3)
    for array in (sharded, plain):  # the same codec either way: both compress alike
        assert array.compressors[0].to_dict()["configuration"]["cname"] == "lz4"
    files = {job.setting: sum(1 for f in job.path.rglob("*") if f.is_file()) for job in (tuned, default)}
    chunks = -(-default.layout.rows // default.layout.chunk_rows)
    assert files == {
        "tuned": 5 + 1,
        "default": chunks + 1,
    }  # a shard per block / a file per chunk, + zarr.json
    hugearray.reduce_array(tuned)
    assert zarr.config.get("async.concurrency") == 10 and zarr.config.get("threading.max_workers") is None


def test_tuned_zarr_shards_only_small_chunks_as_zarrs_guide_advises():
    """Shards hold chunks below 1 MB (the guide's floor: "large arrays but small chunks");
    chunks of 1 MB or more stay a file each, tuned or not; `hugearray.zarr.shards` shards
    either setting."""
    small, large = Layout.from_sizes(4, 3, 1, 64), Layout.from_sizes(256, 8, 64, 4096)
    spec = lambda layout, setting, shards=False: StoreSpec(  # noqa: E731
        layout, "blosc:lz4", 2, False, zarr_shards=shards, setting=setting
    )
    assert zarr_shards(spec(small, "tuned")) == (small.block_rows, 3)
    assert zarr_shards(spec(large, "tuned")) is None and zarr_shards(spec(small, "default")) is None
    assert zarr_shards(spec(large, "default", shards=True)) == (large.block_rows, 8)


def test_tuned_zarr_writes_every_chunk_without_zarrs_emptiness_check(tmp_path):
    """write_empty_chunks=True (tuned), read from the array and from the store: a block of
    zeros (the fill value) is still written as chunk files; the default skips them."""
    layout = Layout.from_sizes(4, 3, 1, 64)
    files = {}
    for setting in ("tuned", "default"):
        spec = StoreSpec(layout, "blosc:lz4", 2, False, setting=setting)
        writer = ZarrWriter(tmp_path / f"{setting}.zarr", spec)
        assert writer.array.config.write_empty_chunks == (setting == "tuned")
        writer.append(np.zeros((layout.block_rows, 3)))
        stored = (tmp_path / f"{setting}.zarr").rglob("*")
        files[setting] = sum(1 for f in stored if f.is_file() and f.name != "zarr.json")
    assert files == {"tuned": 1, "default": 0}  # one shard of the block / nothing stored


def test_tuned_dask_chunks_are_within_dasks_advice_and_whole_store_chunks():
    layout = Layout.from_sizes(1024, 8, 64, 4096)
    rows = tuned_chunk_rows(layout)
    assert 100e6 <= rows * 8 * 8 <= 1e9 and rows % layout.chunk_rows == 0
    assert (
        tuned_chunk_rows(Layout.from_sizes(4, 3, 1, 64)) == Layout.from_sizes(4, 3, 1, 64).rows
    )  # whole array


@pytest.mark.parametrize("backend", ["zarr", "h5py"])
def test_the_dask_graph_has_the_tuned_chunks_and_reads_zarr_with_from_zarr(tmp_path, backend, monkeypatch):
    job = job_for(tmp_path, backend, "dask", "tuned")
    hugearray.write_array(job)
    store, spec = job.store, job.spec
    monkeypatch.setattr("outofcore.hugearray.engines.DASK_TUNED_CHUNK_MB", 1)  # a small array: 1 MiB chunks
    opened = store.opener(job.path, spec)
    try:
        tuned = dask_array(store, opened, spec.layout, "tuned")
        default = dask_array(store, opened, spec.layout, "default")
    finally:
        opened.close()
    chunk_rows = 2**20 // 24 // job.layout.chunk_rows * job.layout.chunk_rows  # 1 MiB of whole store chunks
    assert tuned.chunksize == (chunk_rows, 3) and tuned.numblocks == (-(-job.layout.rows // chunk_rows), 1)
    names = " ".join(str(name) for name in tuned.dask.layers)
    assert ("from-zarr" in names) == (backend == "zarr")
    assert default.chunksize[0] == job.layout.rows  # dask's own chunks: the whole small array


@pytest.mark.parametrize("setting,passes", [("tuned", 1), ("default", 4)])
def test_tuned_dask_reads_the_store_once_default_once_per_statistic(tmp_path, setting, passes):
    job = job_for(tmp_path, "tables", "dask", setting)
    _, exact = hugearray.write_array(job)
    read: list[int] = []
    stats = reduce_dask(job.store, job.path, job.spec, read.append)
    assert sum(read) == passes * job.layout.rows  # every row through the graph's reads, counted
    assert stats.matches(exact)


class Counted:
    """A real NDArray whose reductions are counted: each call is one pass over the array."""

    def __init__(self, array) -> None:
        self.array, self.shape, self.calls = array, array.shape, []

    def __getattr__(self, name):
        method = getattr(self.array, name)

        def call(*args, **kwargs):
            self.calls.append(name)
            return method(*args, **kwargs)

        return call


def test_tuned_blosc2_reduces_in_three_passes_to_the_same_statistics(tmp_path):
    job = job_for(tmp_path, "blosc2", "blosc2", "tuned")
    _, exact = hugearray.write_array(job)
    tuned, default = Counted(open_b2nd(job.path, job.spec)), Counted(open_b2nd(job.path, job.spec))
    fast, slow = own_reductions(tuned, "tuned"), own_reductions(default, "default")
    assert tuned.calls == ["sum", "min", "max"] and default.calls == ["sum", "mean", "min", "max"]
    for name in ("total", "mean", "low", "high"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))
    np.testing.assert_array_equal(fast.mean, exact.mean)


def test_h5py_and_pytables_as_users_type_them_read_back_to_the_pipelines_statistics(tmp_path):
    results = {}
    users = [(name, setting) for name in ("h5py_filter", "tables_filter") for setting in ("default", "tuned")]
    for backend, setting in [("h5py", ""), ("tables", ""), *users]:
        job = job_for(tmp_path, backend, setting=setting)
        measurement, stats, _ = hugearray.run(job)
        assert measurement.check == "ok" and measurement.setting == job.setting
        results[backend, job.setting] = (job, stats)
    pipeline = results["h5py", "pipeline"][1]
    for (backend, setting), (job, stats) in results.items():
        for name in ("total", "mean", "low", "high"):  # exactly, not within a tolerance
            np.testing.assert_array_equal(
                getattr(stats, name), getattr(pipeline, name), err_msg=f"{backend} {setting}"
            )
        if backend.startswith("h5py"):  # the plain library reads every file to the same values
            with h5py.File(job.path, "r") as h5, h5py.File(results["h5py", "pipeline"][0].path, "r") as ref:
                np.testing.assert_array_equal(h5["array"][-1000:], ref["array"][-1000:])
                assert "32026" in h5["array"]._filters  # the HDF5 Blosc2 filter (hdf5plugin)
                assert h5["array"].chunks == (job.layout.chunk_rows, 3)
    with tables.open_file(results["tables_filter", "default"][0].path) as h5:
        assert h5.root.array.chunkshape != (SMALL_CHUNK_ROWS, 3)  # PyTables' own choice
        assert h5.root.array.filters.complib == "blosc2:lz4" and h5.root.array.filters.complevel == 5
    with tables.open_file(results["tables_filter", "tuned"][0].path) as h5:
        assert h5.root.array.chunkshape == (SMALL_CHUNK_ROWS, 3)


def test_tuned_h5py_gives_the_filter_the_jobs_threads(tmp_path):
    before = os.environ.pop("BLOSC_NTHREADS", None)
    try:
        hugearray.write_array(job_for(tmp_path, "h5py_filter", setting="default"))
        assert "BLOSC_NTHREADS" not in os.environ
        hugearray.write_array(job_for(tmp_path, "h5py_filter", setting="tuned"))
        assert os.environ["BLOSC_NTHREADS"] == "2"
    finally:
        os.environ.pop("BLOSC_NTHREADS", None)
        if before is not None:
            os.environ["BLOSC_NTHREADS"] = before


@pytest.mark.parametrize(
    "backend,engine", [("zarr", "dask"), ("blosc2", "blosc2"), ("tables_filter", "threads")]
)
def test_tuned_settings_count_missing_values_and_check_the_present_ones(tmp_path, backend, engine):
    """The NaN-aware pass runs after the tuned reductions too (dask's one pass, blosc2's
    three), and the tuned stores keep the NaN."""
    source = check_sources([{"file": str(weather_csv(tmp_path / "w.csv")), "columns": ["temp", "count"]}])[0]
    one = HugeArrayJob(
        tmp_path / f"array{BACKENDS[backend].suffix}", backend, **SMALL, compression="blosc2:lz4", seed=3,
        threads=2, engine=engine, cold_read=False, data=source.label, source=source.as_params(),
        setting="tuned",
    )  # fmt: skip
    measurement, stats, exact = hugearray.run(one)
    assert measurement.check == "ok" and measurement.setting == "tuned"
    assert stats.missing.tolist() == exact.missing.tolist() and measurement.missing > 0
    assert np.isfinite(stats.total).all() and np.isfinite(stats.mean).all()
