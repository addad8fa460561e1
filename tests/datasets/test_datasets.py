"""The datasets stage: exact values, inclusive bounds, groups, slices (real HDF5 files)."""

import zlib

import h5py
import numpy as np
import pytest

from outofcore.core.seeding import rng_for
from outofcore.datasets import named_arrays as h5_datasets

SPECS = [
    {"name": "random/f0_100", "low": 0, "high": 100, "size": 1000},
    {"name": "a/b/c", "low": -3, "high": 3, "size": 5000},
    {"name": "flat", "low": 7, "high": 7, "size": 3},
]


@pytest.fixture
def h5_path(tmp_path):
    path = tmp_path / "random.h5"
    h5_datasets.write_datasets(path, SPECS, seed=42)
    return path


def test_values_are_the_seeded_draws(h5_path):
    with h5py.File(h5_path, "r") as h5:
        for spec in SPECS:
            expected = np.random.default_rng(
                np.random.SeedSequence([42, zlib.crc32(spec["name"].encode())])
            ).integers(spec["low"], spec["high"] + 1, size=spec["size"], dtype=np.int64)
            assert h5[spec["name"]].dtype == np.int64
            np.testing.assert_array_equal(h5[spec["name"]][()], expected)


def test_bounds_are_inclusive_and_reached(h5_path):
    with h5py.File(h5_path, "r") as h5:
        small = h5["a/b/c"][()]
    assert small.min() == -3 and small.max() == 3
    assert set(np.unique(small)) == set(range(-3, 4))


def test_groups_are_created_for_slashed_names(h5_path):
    with h5py.File(h5_path, "r") as h5:
        assert isinstance(h5["a"], h5py.Group) and isinstance(h5["a/b"], h5py.Group)
        assert isinstance(h5["a/b/c"], h5py.Dataset)


def test_same_seed_same_values_other_seed_differs(tmp_path):
    one, two, other = (tmp_path / f"{n}.h5" for n in ("one", "two", "other"))
    h5_datasets.write_datasets(one, SPECS, seed=42)
    h5_datasets.write_datasets(two, list(reversed(SPECS)), seed=42)  # order does not matter
    h5_datasets.write_datasets(other, SPECS, seed=43)
    with h5py.File(one) as a, h5py.File(two) as b, h5py.File(other) as c:
        np.testing.assert_array_equal(a["random/f0_100"][()], b["random/f0_100"][()])
        assert not np.array_equal(a["random/f0_100"][()], c["random/f0_100"][()])


def test_summary_matches_numpy(h5_path):
    summary = h5_datasets.summarize(h5_path).set_index("dataset")
    assert sorted(summary.index) == sorted(s["name"] for s in SPECS)
    with h5py.File(h5_path, "r") as h5:
        for spec in SPECS:
            data = h5[spec["name"]][()]
            row = summary.loc[spec["name"]]
            assert row["size"] == spec["size"] and row["dtype"] == "int64"
            assert (row["min"], row["max"]) == (data.min(), data.max())
            assert row["mean"] == pytest.approx(data.mean())


def test_summary_reads_in_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(h5_datasets, "BLOCK", 7)  # many partial blocks, odd sizes
    path = tmp_path / "r.h5"
    h5_datasets.write_datasets(path, SPECS, seed=1)
    with h5py.File(path) as h5:
        data = h5["random/f0_100"][()]
    row = h5_datasets.summarize(path).set_index("dataset").loc["random/f0_100"]
    assert (row["min"], row["max"]) == (data.min(), data.max())
    assert row["mean"] == pytest.approx(data.mean())


def test_partial_read_is_the_slice(h5_path):
    part = h5_datasets.partial_read(h5_path, 1, 3)
    assert list(part.columns) == ["dataset", "index", "value"]
    with h5py.File(h5_path, "r") as h5:
        for spec in SPECS:
            rows = part[part["dataset"] == spec["name"]]
            assert list(rows["index"]) == [1, 2]
            assert list(rows["value"]) == list(h5[spec["name"]][1:3])


def test_seeding_helper_is_what_the_stage_uses():
    direct = rng_for(5, "x").integers(0, 10, size=4, endpoint=True)
    assert list(direct) == list(h5_datasets.draw_array(5, "x", 0, 10, 4))
