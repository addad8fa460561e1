"""Real-shaped files read right: missing values one thing through the whole file and
counted per column, NetCDF4 variables with their fill values, integers exact or refused,
Fortran order honoured, the sweep drawing across the whole file, errors that say what to do."""

import numpy as np
import pandas as pd
import pytest

from outofcore.data.listing import source_row
from outofcore.data.readers import missing_counts
from outofcore.data.sample import spread
from outofcore.data.sources import open_source
from outofcore.plan.source_specs import SourceError, check_sources
from real_files import BIG, constant_npy, fortran_npy, netcdf4, parquet_with_nulls, weather_csv

NUMBERS = ["year", "month", "day", "hour", "temp", "count", "humidity"]


def source(item):
    return open_source(check_sources([item])[0], 42)


def counts(item) -> dict[str, int]:
    opened = source(item)
    return dict(zip(opened.table.names, missing_counts(opened.table, piece_bytes=1000).tolist(), strict=True))


def test_csv_missing_markers_are_missing_wherever_they_are(tmp_path):
    """`NA` at row 1500 (after the rows checked before the run) and at row 2500: missing,
    like an empty cell; an integer column with one stays integers."""
    path = weather_csv(tmp_path / "weather.csv")
    item = {"file": str(path), "columns": NUMBERS}
    assert counts(item) == {n: 0 for n in NUMBERS} | {"temp": 6, "count": 1, "humidity": 2}
    ints = source({"file": str(path), "columns": ["count"]})
    assert ints.dtype == np.int64
    values, mask = ints.table.read_rows(1499, 1502)
    assert values.ravel().tolist() == [1499 % 11, 0, 1501 % 11] and mask.ravel().tolist() == [0, 1, 0]
    early = tmp_path / "early.csv"  # the same marker in the first rows: the same answer
    early.write_text("a\n1\nNA\n3\n")
    assert counts({"file": str(early)}) == {"a": 1}


def test_a_text_column_is_refused_saying_what_to_do(tmp_path):
    path = weather_csv(tmp_path / "weather.csv")
    with pytest.raises(
        SourceError, match=r"column 'station' is not numbers .*list the numeric columns under"
    ):
        source({"file": str(path)})
    frame = pd.read_csv(path, keep_default_na=False)
    frame.to_parquet(tmp_path / "w.parquet", index=False)
    with pytest.raises(SourceError, match=r"^[^\n]*no column 'tmep' \(columns: year, month, .*\)$"):
        source({"file": str(tmp_path / "w.parquet"), "columns": ["tmep"]})
    with pytest.raises(SourceError, match="numeric here: year, month, day, hour"):
        source({"file": str(tmp_path / "w.parquet"), "columns": ["station"]})


def test_a_relative_path_not_found_names_the_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        SourceError, match=rf"no such file \(relative to {tmp_path}, where the workflow runs\)"
    ):
        source({"file": "data/missing.npy"})


def test_netcdf4_variables_with_fill_values_and_unwritten_chunks(tmp_path):
    path = netcdf4(tmp_path / "station.nc")
    temp = source({"file": f"{path}:/obs/temp"})
    assert temp.label == "station_temp" and temp.table.names == ("0", "1", "2", "3")
    values = temp.array(400).reshape(100, 4)
    assert np.isnan(values[60:]).all() and np.isnan(values[5, 1]) and (values[values == values] >= 0).all()
    assert missing_counts(temp.table).tolist() == [40, 41, 40, 40]
    counts_ = source({"file": f"{path}:/obs/counts"})  # int16 with missing_value: stays int16
    assert counts_.dtype == np.int16 and missing_counts(counts_.table).tolist() == [50]
    pressure = source({"file": f"{path}:/obs/pressure"})
    assert missing_counts(pressure.table).tolist() == [60]  # netCDF's default fill value
    assert np.nanmax(pressure.array(100)) == 1010.0
    with pytest.raises(SourceError, match=r"name the dataset: path\.nc:/group/variable"):
        check_sources([{"file": str(path)}])
    classic = tmp_path / "classic.nc"
    classic.write_bytes(b"CDF\x01" + bytes(100))
    with pytest.raises(SourceError, match=r"NetCDF classic file, not NetCDF4 .*nccopy -k nc4"):
        check_sources([{"file": f"{classic}:/x"}])


def test_parquet_integer_nulls_stay_integers_exactly(tmp_path):
    path = parquet_with_nulls(tmp_path / "ids.parquet")
    ids = source({"file": str(path), "columns": ["ids"]})
    assert ids.dtype == np.int64 and int(ids.array(6)[0]) == BIG  # not rounded through float64
    assert counts({"file": str(path), "columns": ["ids"]}) == {"ids": 2}
    assert counts({"file": str(path), "columns": ["level"]}) == {"level": 2}  # a null and a NaN
    with pytest.raises(SourceError, match=r"column 'ids' holds the integer 1152921504606846977, beyond"):
        source({"file": str(path)})  # beside a float column: float64 would round it


def test_fortran_order_npy_is_read_in_c_order(tmp_path):
    values = fortran_npy(tmp_path / "f.npy")
    opened = source({"file": str(tmp_path / "f.npy")})
    assert np.array_equal(opened.array(values.size), values.ravel(order="C"))
    assert np.array_equal(opened.table.read_rows(10, 13)[0], values[10:13])


def test_the_sweep_draws_every_column_in_proportion():
    """A 14-column table at a quarter of its values: every column gives a quarter, in
    pieces spread from its start to its end; never the first columns only."""
    rows, columns = 400_000, 14
    segments = [(c * rows, rows) for c in range(columns)]
    ranges = spread(rows * columns, 1_400_000, segments)
    per_column = np.zeros(columns, dtype=int)
    for start, stop in ranges:
        assert start // rows == (stop - 1) // rows  # a piece stays within its column
        per_column[start // rows] += stop - start
    assert per_column.tolist() == [100_000] * columns
    first, last = min(a for a, _ in ranges), max(b for _, b in ranges)
    assert (first, last) == (0, rows * columns)


def test_sources_table_row_has_missing_values_and_coverage(tmp_path):
    path = weather_csv(tmp_path / "weather.csv")
    spec = check_sources([{"file": str(path), "columns": NUMBERS}])[0]
    opened = open_source(spec, 42)
    row = source_row(spec, opened, 10_000)
    assert row["missing"] == 9 and "count: 1" in row["missing_by_column"]
    assert row["coverage"] == pytest.approx(10_000 / 21_000) and row["file_repeats"] == 1.0
    small = source_row(spec, opened, 2100)  # a tenth of the file's 21,000 values
    assert small["coverage"] == pytest.approx(0.1) and small["file_repeats"] == 1.0
    array, share, repeats = opened.sample(2100)
    assert share == pytest.approx(0.1) and repeats == 1.0 and array.size == 2100
    assert set(np.unique(array[:300])) == {2013.0}  # year first, and only 300 of it
    big = source_row(spec, opened, 42_000)
    assert big["coverage"] == 1.0 and big["file_repeats"] == 2.0
    constant = check_sources([{"file": str(constant_npy(tmp_path / "year.npy"))}])[0]
    assert source_row(constant, open_source(constant, 1), 100)["missing_by_column"] == "values: 0"


def test_an_hdf5_compound_dataset_is_a_table(tmp_path):
    """A PyTables/h5py table: its numeric fields are its columns (or those listed)."""
    import h5py

    records = np.zeros(50, dtype=[("t", "<f8"), ("n", "<i4"), ("name", "S4"), ("big", "<i8")])
    records["t"], records["n"], records["big"] = np.arange(50) / 2, np.arange(50), 2**60 + 1
    with h5py.File(tmp_path / "table.h5", "w") as h5:
        h5["readout"] = records
    item = {"file": f"{tmp_path / 'table.h5'}:/readout", "columns": ["n", "t"]}
    table = source(item)
    assert table.table.names == ("n", "t") and table.table.columns_kept and table.dtype == np.float64
    assert np.array_equal(table.table.read_rows(3, 5)[0], [[3, 1.5], [4, 2.0]])
    with pytest.raises(SourceError, match=r"field 'name' of dtype \|S4 is not plain numbers"):
        source({"file": f"{tmp_path / 'table.h5'}:/readout"})
    with pytest.raises(SourceError, match=r"field 'big' holds the integer 1152921504606846977"):
        source({**item, "columns": ["t", "big"]}).array(10)
    assert source({**item, "columns": ["big"]}).array(1)[0] == 2**60 + 1  # alone: exact
