"""The huge array on data with missing values: NaN in the store, the statistics over the
present values and the missing counts checked by every engine; a corrupted present value
fails the check, a column with no present value is never `ok`."""

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from outofcore.hugearray import job as hugearray
from outofcore.hugearray.job import HugeArrayJob, WrongAnswer, require_exact
from outofcore.hugearray.stores.hdf5_chunks import DATASET
from outofcore.hugearray.stores.registry import BACKENDS
from outofcore.plan import hugearray_stores
from outofcore.plan.source_specs import check_sources
from real_files import netcdf4, weather_csv

SMALL = {"size_mb": 2, "columns": 3, "block_mb": 1, "chunk_kb": 64}


def job(tmp_path, backend: str, engine: str, item) -> HugeArrayJob:
    source = check_sources([item])[0]
    return HugeArrayJob(
        tmp_path / f"array{BACKENDS[backend].suffix}", backend, **SMALL, compression="blosc2:lz4",
        seed=3, threads=2, engine=engine, cold_read=False, data=source.label, source=source.as_params(),
    )  # fmt: skip


def ints_with_nulls(path):
    """Integer columns with nulls (no float beside them: they stay integers)."""
    a = pa.array([1, None, 3, 4, None, 6, 7, 8], type=pa.int64())
    b = pa.array([10, 20, 30, 40, 50, 60, 70, None], type=pa.int32())
    pq.write_table(pa.table({"a": a, "b": b}), path)
    return {"file": str(path)}


# dask_distributed runs on a cluster the job starts: its own tests share one (test_dask_distributed.py)
ENGINES_HERE = [engine for engine in hugearray_stores.ENGINES if engine != "dask_distributed"]
PAIRS = hugearray_stores.jobs(list(BACKENDS), ENGINES_HERE, settings=["default"])


@pytest.mark.parametrize("backend,engine", PAIRS, ids=[f"{b}-{e}" for b, e in PAIRS])
def test_every_engine_counts_missing_values_and_checks_the_present_ones(tmp_path, backend, engine):
    item = {"file": str(weather_csv(tmp_path / "w.csv")), "columns": ["temp", "count", "humidity"]}
    one = job(tmp_path, backend, engine, item)
    measurement, stats, exact = hugearray.run(one)
    assert measurement.check == "ok" and measurement.columns == 3
    rows = one.layout.rows
    assert exact.missing.tolist() == stats.missing.tolist()
    assert measurement.missing == int(exact.missing.sum()) > 0
    assert exact.missing.tolist()[1] == rows // 3000 + (rows % 3000 > 1500)  # one NA per file
    assert np.isfinite(stats.total).all() and np.isfinite(stats.mean).all()


def test_integer_nulls_are_nan_in_the_store_and_summed_exactly(tmp_path):
    one = job(tmp_path, "h5py", "threads", ints_with_nulls(tmp_path / "n.parquet"))
    measurement, _, exact = hugearray.run(one)
    assert measurement.check == "ok" and one.columns == 2 and exact.exact_sums()
    with h5py.File(one.path) as h5:
        first = h5[DATASET][:8]
    assert np.isnan(first[[1, 4], 0]).all() and np.isnan(first[7, 1]) and first[2, 0] == 3.0
    periods = one.layout.rows // 8
    assert exact.missing[0] >= 2 * periods and exact.total[0] >= 29 * periods


@pytest.mark.parametrize("item", ["csv", "parquet"])
def test_a_corrupted_present_value_beside_missing_ones_fails(tmp_path, item):
    """The check is not vacuous on columns with NaN: one present value changed fails it, as
    does a present value turned missing."""
    source = (
        {"file": str(weather_csv(tmp_path / "w.csv")), "columns": ["temp", "humidity"]}
        if item == "csv"
        else ints_with_nulls(tmp_path / "n.parquet")
    )
    one = job(tmp_path, "h5py", "threads", source)
    _, exact = hugearray.write_array(one)
    assert exact.missing.sum() > 0
    with h5py.File(one.path, "r+") as h5:
        value = h5[DATASET][2, 0]
        assert not np.isnan(value)
        h5[DATASET][2, 0] = value + 1
    _, stats, _ = hugearray.reduce_array(one)
    assert stats.verdict(exact) == "mismatch"
    with h5py.File(one.path, "r+") as h5:
        h5[DATASET][2, 0] = np.nan
    _, stats, _ = hugearray.reduce_array(one)
    assert stats.verdict(exact) == "mismatch"


@pytest.mark.parametrize("engine", ["threads", "dask"])
def test_a_column_with_no_present_value_is_said_so(tmp_path, engine):
    values = np.ones((500, 3))
    values[:, 1] = np.nan
    np.save(tmp_path / "holes.npy", values)
    one = job(tmp_path, "memmap", engine, {"file": str(tmp_path / "holes.npy")})
    measurement, stats, _ = hugearray.run(one)
    assert measurement.check == "no values in column 1"
    assert measurement.missing == one.layout.rows
    require_exact(measurement, one.path)  # no wrong answer: the job keeps it
    table = stats.table()
    assert np.isnan(table.loc[1, "min"]) and table.loc[0, "sum"] == one.layout.rows


def test_a_mismatch_still_fails_the_job(tmp_path):
    one = job(tmp_path, "memmap", "threads", "noisy_float")
    measurement, _, _ = hugearray.run(one)
    with pytest.raises(WrongAnswer):
        require_exact(type(measurement)(**{**measurement.__dict__, "check": "mismatch"}), one.path)


def test_netcdf_fill_values_are_missing_in_the_huge_array(tmp_path):
    path = netcdf4(tmp_path / "station.nc")
    one = job(tmp_path, "tables", "threads", {"file": f"{path}:/obs/temp"})
    measurement, stats, exact = hugearray.run(one)
    assert measurement.check == "ok" and one.columns == 4
    periods, rest = divmod(one.layout.rows, 100)
    assert exact.missing[0] == 40 * periods + max(0, rest - 60)
    assert stats.high.max() < 100  # no -9999 and no 9.97e36 read as values
