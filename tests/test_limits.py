"""The machine-limits stage: every measurement present, positive and consistent."""

import numpy as np
import pandas as pd
import pytest

from outofcore import machine_limits


def test_disk_probe_measures_all_and_cleans_up(tmp_path):
    result = machine_limits.disk_gbps(tmp_path, 8 * machine_limits.MB, repeats=1)
    assert set(result) == {"page_cache_write", "durable_write", "warm_read", "cold_read"}
    assert all(value > 0 for value in result.values())
    assert list(tmp_path.iterdir()) == []  # scratch file removed


def test_read_helper_reads_every_byte(tmp_path):
    path = tmp_path / "f"
    block = memoryview(np.arange(machine_limits.CHUNK, dtype=np.uint8).tobytes())
    machine_limits._write_file(path, block, 3 * machine_limits.CHUNK, durable=True)
    assert path.stat().st_size == 3 * machine_limits.CHUNK
    assert (
        machine_limits._read_file(path, bytearray(machine_limits.CHUNK), cold=True)
        == 3 * machine_limits.CHUNK
    )


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return machine_limits.measure_limits(
        tmp_path_factory.mktemp("limits"), memcpy_mb=16, disk_mb=8, repeats=1
    )


def test_limits_table_has_every_row(table):
    assert list(table.columns) == ["name", "value", "unit", "how"]
    names = set(table["name"])
    expected = {"memcpy", "page_cache_write", "durable_write", "warm_read", "cold_read", "cores", "memory"}
    assert expected <= names and "cpu_model" in names
    for lib in (
        "python",
        "numpy",
        "hdf5 (h5py)",
        "h5py",
        "pytables",
        "blosc",
        "blosc2",
        "hdf5plugin",
        "numexpr",
        "matplotlib",
        "psutil",
        "snakemake",
        "pandas",
    ):
        assert f"version {lib}" in names
    numeric = table[table["unit"].isin(["GB/s", "count", "GiB"])]
    assert len(numeric) == len(expected)
    assert (pd.to_numeric(numeric["value"]) > 0).all()
    assert table["how"].str.len().min() > 0


def test_measurements_are_rounded_to_three_significant_digits(table):
    rates = pd.to_numeric(table[table["unit"].isin(["GB/s", "GiB"])]["value"])
    assert all(float(f"{value:.3g}") == value for value in rates)
    versions = table[table["unit"] == "version"].set_index("name")["value"]
    assert versions["version snakemake"] != "not installed here"  # the test environment has all
