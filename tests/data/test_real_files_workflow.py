"""Real-shaped files through the real workflow, in one small run and its rerun: the
data-source table's missing values and coverage, the sweep measuring the whole file, the
huge array keeping a table's columns and checking its present values, and a replaced file
rerunning what reads it."""

import os

import numpy as np
import pandas as pd

from conftest import load_config
from real_files import fortran_npy, netcdf4, parquet_with_nulls, weather_csv

COLUMNS = ["year", "month", "day", "temp", "count", "humidity"]


def test_real_files_through_the_workflow_and_a_replaced_file(workflow_runner):
    workdir = workflow_runner.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    weather_csv(workdir / "weather.csv", rows=3000)
    netcdf4(workdir / "station.nc")
    parquet_with_nulls(workdir / "ids.parquet")
    fortran_npy(workdir / "fortran.npy")
    config = load_config("blosc_tiny.yaml")
    config["blosc"] = {**config["blosc"], "methods": ["blosc2"], "threads": [1], "sizes": [1000, 100000]}
    config["blosc"]["repeats"] = 1
    config["limits"] = load_config("tiny.yaml")["limits"]  # the huge array reads the machine's limits
    config["data"] = [
        {"file": "weather.csv", "columns": COLUMNS},
        {"file": "station.nc:/obs/temp", "name": "temp"},
        {"file": "ids.parquet", "columns": ["ids"]},
        {"file": "fortran.npy"},
    ]
    config["hugearray"] = {
        **load_config("hugearray_sources.yaml")["hugearray"],
        "backends": ["h5py"],
        "data": ["weather", "temp", "fortran"],
        "keep_data": False,
    }
    workflow_runner(config, "blosc_plots", "hugearray_plots")
    results = workdir / "results"
    sources = pd.read_csv(results / "data" / "sources.csv", keep_default_na=False).set_index("data")
    assert sources.loc["weather", "missing"] == 9  # 6 empty temps, count's NA at row 1500, 2 humidity NA
    assert "count: 1" in sources.loc["weather", "missing_by_column"]
    assert sources.loc["temp", "missing"] == 161 and sources.loc["ids", "dtype"] == "int64"
    assert sources.loc["weather", "coverage"] == 1.0 and sources.loc["weather", "file_repeats"] > 5
    sweep = pd.read_csv(results / "blosc" / "sweep.csv")
    small = sweep[(sweep["data"] == "weather") & (sweep["size"] == 1000)]
    assert set(small["coverage"].round(6)) == {round(1000 / 18000, 6)} and set(small["file_repeats"]) == {1}
    summary = pd.read_csv(results / "hugearray" / "summary.csv").set_index("data")
    assert set(summary["check"]) == {"ok"}
    assert summary.loc["weather", "columns"] == 6 and summary.loc["temp", "columns"] == 4
    assert summary.loc["weather", "missing"] > 0 and summary.loc["fortran", "missing"] == 0

    # the file replaced by one with other values: what reads it runs again
    before = (results / "hugearray" / "2" / "weather" / "threads" / "h5py.csv").stat().st_mtime
    weather_csv(workdir / "weather.csv", rows=2000)
    later = before + 10
    os.utime(workdir / "weather.csv", (later, later))
    proc = workflow_runner(config, "blosc_plots", "hugearray_plots")
    assert "Nothing to be done" not in proc.stdout + proc.stderr
    sources = pd.read_csv(results / "data" / "sources.csv", keep_default_na=False).set_index("data")
    assert sources.loc["weather", "elements"] == 12000
    rerun = (results / "hugearray" / "2" / "weather" / "threads" / "h5py.csv").stat().st_mtime
    assert rerun > before
    sweep = pd.read_csv(results / "blosc" / "sweep.csv")
    weather = sweep[(sweep["data"] == "weather") & (sweep["size"] == 1000)]
    assert np.isclose(weather["coverage"], 1000 / 12000).all()
