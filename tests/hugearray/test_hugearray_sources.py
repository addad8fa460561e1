"""The huge array on any data source: a generator at the array's size or a user's file
tiled to it, laid out row-major, block by block; every store round-trips it exactly,
every engine's statistics agree with the reference (exactly for integers, within the
stated bound for floats), and unusable files are refused naming the file and the key."""

import math

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import load_config
from outofcore.data.sources import open_source, periodic
from outofcore.hugearray import job as hugearray
from outofcore.hugearray.data import ColumnStats
from outofcore.hugearray.job import HugeArrayJob
from outofcore.hugearray.source import open_blocks
from outofcore.hugearray.stores.hdf5_chunks import DATASET
from outofcore.hugearray.stores.layout import Layout
from outofcore.hugearray.stores.registry import BACKENDS
from outofcore.plan import hugearray_stores
from outofcore.plan.source_specs import SourceError, SourceSpec, check_sources
from support import first_error, with_change

# 174,762 rows of 3 columns in blocks of 43,008 rows: 5 blocks, the last partial
SMALL = {"size_mb": 4, "columns": 3, "block_mb": 1, "chunk_kb": 64}
LAYOUT = Layout.from_sizes(4, 3, 1, 64)
SEED = 9


def spec(item) -> SourceSpec:
    return check_sources([item])[0]


def array_of(item, layout: Layout = LAYOUT) -> np.ndarray:
    blocks, _ = open_blocks(SEED, layout, spec(item).as_params())
    return np.concatenate([values for values, _ in blocks])


def expected(values: np.ndarray, layout: Layout = LAYOUT) -> np.ndarray:
    """The source's flat values tiled to rows x columns, laid out row-major."""
    return np.resize(values.ravel(), layout.rows * layout.columns).reshape(layout.rows, layout.columns)


@pytest.mark.parametrize("period", [1, 2, 7, 1000, 4096])
@pytest.mark.parametrize("start,stop", [(0, 0), (0, 5), (3, 4), (5, 5000), (4095, 12_345), (999, 1001)])
def test_periodic_repeats_the_values(period, start, stop):
    whole = np.arange(period, dtype=np.int32) * 3
    assert np.array_equal(periodic(whole, start, stop), np.resize(whole, stop)[start:])


def tiled_rows(values: np.ndarray, layout: Layout) -> np.ndarray:
    """A source with columns of its own, its rows repeated to the array's rows."""
    return values[np.arange(layout.rows) % len(values)]


def test_a_small_npy_keeps_its_columns_with_its_dtype(tmp_path):
    values = np.arange(1000, dtype=np.int16).reshape(250, 4) - 500
    np.save(tmp_path / "small.npy", values)
    four = Layout.from_sizes(4, 4, 1, 64)
    item = {"file": str(tmp_path / "small.npy")}
    blocks, reference = open_blocks(SEED, four, spec(item).as_params())
    first, missing = next(blocks)
    assert first.dtype == np.int16 and first.shape == (four.block_rows, 4) and missing is None
    assert reference.dtype == np.int64  # integers: summed exactly
    assert np.array_equal(array_of(item, four), tiled_rows(values, four))
    np.save(tmp_path / "flat.npy", values.ravel())  # one dimension: spread across the columns
    assert np.array_equal(array_of({"file": str(tmp_path / "flat.npy")}), expected(values))


def test_a_fortran_order_npy_is_read_in_c_order(tmp_path):
    """The documented order, whatever the file's memory order: columns stay columns."""
    values = np.asfortranarray(np.arange(3000, dtype=np.float64).reshape(1000, 3))
    np.save(tmp_path / "fortran.npy", values)
    assert np.load(tmp_path / "fortran.npy").flags.f_contiguous
    assert np.array_equal(array_of({"file": str(tmp_path / "fortran.npy")}), tiled_rows(values, LAYOUT))


def test_a_file_larger_than_a_block_is_read_in_slices(tmp_path):
    """1.5 blocks of float32 in HDF5 (2-D, rows read whole) and as .npy: the same array."""
    values = np.random.default_rng(1).standard_normal((130_000, 3)).astype(np.float32)
    assert values.nbytes > LAYOUT.block_nbytes
    np.save(tmp_path / "big.npy", values)
    with h5py.File(tmp_path / "big.h5", "w") as h5:
        h5.create_dataset("group/values", data=values, chunks=(1000, 3))
    want = expected(values)
    assert np.array_equal(array_of({"file": str(tmp_path / "big.npy")}), want)
    assert np.array_equal(array_of({"file": f"{tmp_path / 'big.h5'}:/group/values"}), want)


def test_csv_and_parquet_keep_their_columns(tmp_path):
    frame = pd.DataFrame({"a": [1.5, 2.5, 3.5], "b": [10, 20, 30], "c": [7, 8, 9]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    for name in ("t.csv", "t.parquet"):
        assert np.array_equal(array_of({"file": str(tmp_path / name)}), tiled_rows(frame.to_numpy(), LAYOUT))
    two = Layout.from_sizes(4, 2, 1, 64)
    picked = array_of({"file": str(tmp_path / "t.csv"), "columns": ["c", "a"]}, two)
    assert np.array_equal(picked, tiled_rows(frame[["c", "a"]].to_numpy(), two))


BYTES = {"random_int": {"high": 255, "dtype": "uint8"}}
WIDE = {"random_int": {"low": -(2**53), "high": 2**53, "dtype": "int64"}}


@pytest.mark.parametrize("name", ["linspace", "random_int", "smooth", "noisy_float", "sparse", BYTES, WIDE])
def test_a_generator_is_the_source_at_the_arrays_size(name):
    """The same values the blosc sweep compresses at rows x columns elements."""
    size = LAYOUT.rows * LAYOUT.columns
    assert np.array_equal(array_of(name), open_source(spec(name), SEED).array(size).reshape(-1, 3))


# --- the check, on every store and engine -------------------------------------------------------


def job(tmp_path, backend: str, engine: str, item) -> HugeArrayJob:
    source = spec(item)
    return HugeArrayJob(
        tmp_path / f"array{BACKENDS[backend].suffix}", backend, **SMALL, compression="blosc2:lz4",
        seed=SEED, threads=2, engine=engine, cold_read=False, data=source.label, source=source.as_params(),
    )  # fmt: skip


def stored(job: HugeArrayJob) -> np.ndarray:
    """The whole store as its own library reads it back (small here)."""
    opened = job.store.opener(job.path, job.spec)
    try:
        return np.asarray(opened.array[:])
    finally:
        opened.close()


# dask_distributed runs on a cluster the job starts: its own tests share one (test_dask_distributed.py)
ENGINES_HERE = [engine for engine in hugearray_stores.ENGINES if engine != "dask_distributed"]
PAIRS = hugearray_stores.jobs(list(BACKENDS), ENGINES_HERE, settings=["default"])


@pytest.mark.parametrize("backend,engine", PAIRS, ids=[f"{b}-{e}" for b, e in PAIRS])
def test_every_store_round_trips_and_every_engine_agrees_on_floats(tmp_path, backend, engine):
    """noisy_float: every mantissa bit random, so the sums depend on the order; the stores
    are lossless, so the values read back are the source's, bit for bit."""
    one = job(tmp_path, backend, engine, "noisy_float")
    measurement, stats, exact = hugearray.run(one)
    assert measurement.check == "ok" and measurement.data == "noisy_float"
    assert not exact.exact_sums()
    values = array_of("noisy_float")
    assert stored(one).tobytes() == values.tobytes()
    np.testing.assert_array_equal(stats.low, values.min(axis=0))
    np.testing.assert_array_equal(stats.high, values.max(axis=0))
    fsum = np.array([math.fsum(values[:, c]) for c in range(3)])  # the correctly rounded sums
    assert np.all(np.abs(stats.total - fsum) <= exact.sum_tolerance())


def test_a_changed_float_is_caught(tmp_path):
    """The tolerance is not vacuous: one value changed by 1e-3 in the store fails the check."""
    one = job(tmp_path, "h5py", "threads", "noisy_float")
    _, exact = hugearray.write_array(one)
    assert exact.sum_tolerance().max() < 1e-4
    with h5py.File(one.path, "r+") as h5:
        h5[DATASET][17, 2] += 1e-3
    _, stats, _ = hugearray.reduce_array(one)
    assert not stats.matches(exact)


def test_integer_file_sources_are_checked_exactly(tmp_path):
    values = (np.arange(30_000, dtype=np.int64) * 1_000_003 - 7).reshape(-1, 3)
    with h5py.File(tmp_path / "ints.h5", "w") as h5:
        h5["v"] = values
    one = job(tmp_path, "memmap", "dask", {"file": f"{tmp_path / 'ints.h5'}:/v"})
    measurement, _, exact = hugearray.run(one)
    assert measurement.check == "ok" and exact.exact_sums()
    np.testing.assert_array_equal(exact.total, expected(values).sum(axis=0))
    assert stored(one).tobytes() == expected(values).astype(np.float64).tobytes()


def test_random_int_in_its_dtype_is_checked_exactly(tmp_path):
    """uint8 values are kept as integers until the copy into float64: exact sums."""
    one = job(tmp_path, "h5py", "threads", BYTES)
    measurement, _, exact = hugearray.run(one)
    assert measurement.check == "ok" and measurement.data == "random_int_0_255_uint8" and exact.exact_sums()
    values = array_of(BYTES)
    assert values.dtype == np.uint8 and values.min() == 0 and values.max() == 255
    assert stored(one).tobytes() == values.astype(np.float64).tobytes()


def test_large_integers_fall_back_to_the_bound():
    """rows x largest |value| >= 2**53: float sums of them may round, so not exact."""
    stats = ColumnStats(2, dtype=np.int64)
    stats.add_source(np.full((1 << 14, 2), 2**40, dtype=np.int64))
    assert not stats.exact_sums()
    read = ColumnStats(2)
    read.add_block(np.full((1 << 14, 2), 2.0**40))
    assert read.matches(stats)


# --- refusals -----------------------------------------------------------------------------------


def refused(item, match: str, layout: Layout = LAYOUT) -> None:
    with pytest.raises(SourceError, match=match) as caught:
        list(open_blocks(SEED, layout, spec(item).as_params())[0])
    assert str(caught.value).startswith("config error: data[0].file = ")


def test_64_bit_integers_beyond_2_53_are_refused(tmp_path):
    np.save(tmp_path / "ns.npy", np.array([1_700_000_000_000_000_000, 5], dtype=np.int64))
    refused({"file": str(tmp_path / "ns.npy")}, r"ns\.npy': value 1700000000000000000 is beyond \+-2\*\*53")


def test_random_int_beyond_2_53_is_refused_before_and_in_the_job():
    item = {"random_int": {"low": 0, "high": 2**62, "dtype": "int64"}, "name": "wide"}
    with pytest.raises(
        SourceError, match=r"^config error: data\[0\]\.random_int = 'wide': value \d+ is beyond"
    ):
        list(open_blocks(SEED, LAYOUT, spec(item).as_params())[0])
    config = with_change("data", [item])
    config["hugearray"] = {**config["hugearray"], "data": ["wide"]}
    error = first_error(config)
    assert error is not None and error.key == "hugearray.data[0]" and "reaches beyond +-2**53" in str(error)


def test_long_double_is_refused(tmp_path):
    np.save(tmp_path / "ld.npy", np.ones(10, dtype=np.longdouble))
    if np.dtype(np.longdouble).itemsize <= 8:
        pytest.skip("long double is float64 on this platform")
    refused({"file": str(tmp_path / "ld.npy")}, "float32 or float64")


def test_a_csv_larger_than_a_block_is_refused_before_and_in_the_job(tmp_path):
    path = tmp_path / "wide.csv"
    pd.DataFrame({"x": np.arange(200_000) * 1.25}).to_csv(path, index=False)  # ~1.6 MiB
    refused({"file": str(path)}, r"wide\.csv': 1,\d+,\d+ bytes on disk, more than the 1,032,192 a job")
    config = with_change("data", [{"file": str(path), "name": "wide"}])
    config["hugearray"] = {**config["hugearray"], "data": ["wide"], "block_mb": 1, "chunk_kb": 64}
    error = first_error(config)
    assert error is not None and error.key == "hugearray.data[0]" and "wide.csv (data[0].file)" in str(error)


def test_an_hdf5_row_larger_than_a_block_is_refused(tmp_path):
    with h5py.File(tmp_path / "rows.h5", "w") as h5:
        h5["v"] = np.ones((2, 200_000))
    refused({"file": f"{tmp_path / 'rows.h5'}:/v"}, "one row along the first axis holds 1,600,000 bytes")


def test_a_file_named_uniform_int16_is_refused(tmp_path):
    np.save(tmp_path / "x.npy", np.ones(4))
    config = with_change("data", [{"file": str(tmp_path / "x.npy"), "name": "uniform_int16"}])
    error = first_error(config)
    assert error is not None and error.key == "hugearray.data[0]"


# --- the workflow ----------------------------------------------------------------------------


RANGED = "random_int_-1000_1000_int16"  # the label made from its range and dtype


def test_stage_on_a_users_npy_an_hdf5_dataset_and_a_generator(workflow_runner):
    workdir = workflow_runner.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    npy = np.arange(3000, dtype=np.int16).reshape(1000, 3) * 7
    h5 = np.random.default_rng(2).standard_normal((500, 6)).astype(np.float32)
    np.save(workdir / "mine.npy", npy)
    with h5py.File(workdir / "mine.h5", "w") as file:
        file["sensors/values"] = h5
    config = load_config("hugearray_sources.yaml")
    workflow_runner(config, "hugearray_plots")
    out = workdir / "results" / "hugearray"
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["data"]) == {RANGED, "mine", "sensors"} and set(summary["check"]) == {"ok"}
    assert len(summary) == 6  # 3 sources x 2 backends
    for data in (RANGED, "mine", "sensors"):
        row = pd.read_csv(out / "2" / data / "threads" / "h5py.csv").iloc[0]
        assert row["data"] == data and row["check"] == "ok"
    layout = Layout.from_sizes(2, 3, 1, 64)
    kept = out / "2" / "mine" / "threads" / "memmap.npy"
    assert np.array_equal(np.load(kept), expected(npy, layout))  # kept: the lossless round trip
    six = Layout.from_sizes(2, 6, 1, 64)  # a 2-D dataset keeps its 6 columns
    with h5py.File(out / "2" / "sensors" / "threads" / "h5py.h5", "r") as file:
        assert np.array_equal(file[DATASET][()], tiled_rows(h5, six))
    drawn = open_source(spec(config["data"][2]), config["seed"]).array(layout.rows * 3)
    assert drawn.dtype == np.int16 and drawn.min() >= -1000 and drawn.max() <= 1000
    assert np.array_equal(np.load(out / "2" / RANGED / "threads" / "memmap.npy"), drawn.reshape(-1, 3))
    headline = pd.read_csv(out / "headline.csv")
    for data in (RANGED, "mine", "sensors"):
        assert headline["figure"].str.contains(f"data {data}").sum() == 4  # 2 writes, 2 reduces


# --- data that compress beyond any ratio ----------------------------------------------------------


@pytest.mark.parametrize("backend", ["tables", "h5py"])
def test_a_constant_column_is_stored_and_read_back(tmp_path, backend):
    """A year in every row compresses thousands of times (blosc2 stores a constant chunk as
    its header and a value): the store's own layout check knows the shape it wrote and
    reads it, where a bound on the ratio refused it."""
    np.save(tmp_path / "year.npy", np.full(1000, 2013, dtype=np.int64))
    one = job(tmp_path, backend, "threads", {"file": str(tmp_path / "year.npy")})
    one = HugeArrayJob(**{**one.__dict__, "size_mb": 16, "block_mb": 4, "chunk_kb": 1024})
    measurement, stats, _ = hugearray.run(one)
    assert measurement.check == "ok" and measurement.file_bytes * 1000 < one.layout.nbytes
    assert set(stats.low) == set(stats.high) == {2013.0}


def test_a_store_declaring_another_shape_is_refused(tmp_path):
    """The ratio bound is replaced by the exact shape, not dropped: a store grown behind the
    job's back is refused naming the file."""
    from outofcore.safety.hdf5 import UnsafeFile

    one = job(tmp_path, "h5py", "threads", "noisy_float")
    hugearray.write_array(one)
    with h5py.File(one.path, "r+") as h5:
        h5[DATASET].resize(one.layout.rows * 1000, axis=0)
    grown = rf"^{one.path}: /array: shape \(\d+, 3\), not the \(174762, 3\) written"
    with pytest.raises(UnsafeFile, match=grown):
        hugearray.reduce_array(one)
