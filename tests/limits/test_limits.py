"""The machine-limits stage: every measurement present, positive and consistent."""

import numpy as np
import pandas as pd
import pytest

from outofcore.limits import disk as disk_limits
from outofcore.limits import machine as machine_limits
from outofcore.limits import registry
from outofcore.plan.units import MiB


def test_disk_probe_measures_all_and_cleans_up(tmp_path):
    result = disk_limits.disk_gbps(tmp_path, 8 * MiB, repeats=1)
    expected = {"page_cache_write", "durable_write", "warm_read", "cold_read"}
    assert (
        expected | {"cold_read_buffered", "cold_read_mmap"}
        <= set(result)
        <= expected | set(disk_limits.COLD_WAYS)
    )
    assert all(value > 0 for value in result.values())
    assert list(tmp_path.iterdir()) == []  # scratch file removed


def test_cold_read_is_the_fastest_way_to_read_the_device(tmp_path):
    rows = {row["name"]: row for row in machine_limits.disk_rows(tmp_path, 8, 2)}
    ways = {name: rows[name]["value"] for name in disk_limits.COLD_WAYS if name in rows}
    assert rows["cold_read"]["value"] == max(ways.values())
    best = max(ways, key=ways.get)
    assert f"fastest device read ({best})" in rows["cold_read"]["how"]
    assert all(name in rows["cold_read"]["how"] for name in ways)  # the others are named too


def test_mapped_read_touches_every_page(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(bytes(3 * disk_limits.CHUNK + 5))
    assert disk_limits._read_mapped(path) == 3 * disk_limits.CHUNK + 5


def test_read_helper_reads_every_byte(tmp_path):
    path = tmp_path / "f"
    block = memoryview(np.arange(disk_limits.CHUNK, dtype=np.uint8).tobytes())
    disk_limits._write_file(path, block, 3 * disk_limits.CHUNK, durable=True)
    assert path.stat().st_size == 3 * disk_limits.CHUNK
    assert disk_limits._read_file(path, bytearray(disk_limits.CHUNK), cold=True) == 3 * disk_limits.CHUNK


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return machine_limits.measure_limits(
        tmp_path_factory.mktemp("limits"), memcpy_mb=16, disk_mb=8, repeats=1, threads=[1, 2]
    )


def test_limits_table_has_every_row(table):
    assert list(table.columns) == ["name", "value", "unit", "how"]
    names = set(table["name"])
    expected = {"memcpy", "page_cache_write", "durable_write", "warm_read", "cold_read", "cores", "memory"}
    expected |= {f"{kind}_{t}t" for kind in ("copy", "write", "read") for t in (1, 2)}
    expected |= {"cold_read_buffered", "cold_read_mmap"} | ({"cold_read_direct"} & names)
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


def test_every_row_is_a_registered_limit_with_its_unit(table):
    for name, unit in zip(table["name"], table["unit"], strict=True):
        assert registry.get_limit(name).unit == unit, name
    written = {registry.match(name)[0].name for name in table["name"]} | {"others_busy"}  # the job adds it
    assert written == set(registry.LIMITS)  # nothing registered that the job never writes
    rows = table.set_index("name")
    assert rows.loc["durable_write", "how"].startswith(registry.LIMITS["durable_write"].how.format(mb=8))


def test_memory_bandwidths_say_threads_and_spread(table):
    rows = table.set_index("name")
    assert "split over 2 threads" in rows.loc["copy_2t", "how"] and "spread" in rows.loc["copy_2t", "how"]
    assert "split over 1 thread," in rows.loc["copy_1t", "how"]
    assert rows.loc["memcpy", "value"] == rows.loc["copy_1t", "value"]


def test_cold_read_uses_o_direct_where_the_file_system_allows_it(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(bytes(disk_limits.CHUNK))
    import mmap

    buffer = mmap.mmap(-1, disk_limits.CHUNK)
    if disk_limits.direct_read_works(path, buffer):  # ext4, xfs...: the device read
        assert disk_limits._read_direct(path, [buffer, mmap.mmap(-1, disk_limits.CHUNK)]) == disk_limits.CHUNK
        rows = {row["name"]: row for row in machine_limits.disk_rows(tmp_path, 8, 1)}
        assert "O_DIRECT (page cache bypassed)" in rows["cold_read_direct"]["how"]


def test_cold_read_falls_back_to_fadvise_without_o_direct(tmp_path):
    rows = {row["name"]: row for row in machine_limits.disk_rows(tmp_path, 8, 1, allow_direct=False)}
    assert "cold_read_direct" not in rows and "O_DIRECT" not in rows["cold_read"]["how"]
    assert "posix_fadvise(DONTNEED)" in rows["cold_read"]["how"]
    assert rows["cold_read"]["value"] > 0 and list(tmp_path.iterdir()) == []


def test_a_cold_read_faster_than_half_the_warm_read_is_cached():
    assert disk_limits.is_cached(cold_gbps=3.0, warm_gbps=5.0)
    assert not disk_limits.is_cached(cold_gbps=1.0, warm_gbps=5.0)


def test_thread_counts_double_up_to_the_cores_and_add_the_configured():
    assert machine_limits.thread_counts(2) == [1, 2]
    assert machine_limits.thread_counts(12, [3]) == [1, 2, 3, 4, 8, 12]
    assert machine_limits.thread_counts(1, [2]) == [1, 2]


def test_measurements_are_rounded_to_three_significant_digits(table):
    rates = pd.to_numeric(table[table["unit"].isin(["GB/s", "GiB"])]["value"])
    assert all(float(f"{value:.3g}") == value for value in rates)
    versions = table[table["unit"] == "version"].set_index("name")["value"]
    assert versions["version snakemake"] != "not installed here"  # the test environment has all
