"""Data sources: the generators' values, a user's file read flat and tiled, and every refusal."""

import pickle

import h5py
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import REPO
from outofcore.data.readers import npy_table
from outofcore.data.sources import CHUNK, GENERATOR_DRAWS, open_source
from outofcore.plan.source_specs import GENERATORS, RANDOM_INT, SourceError, check_sources, parse_sources
from support import Planted


def test_generators_are_listed_once_and_the_schema_and_docs_agree():
    """GENERATORS is the list: the schema's enum, the job's generators and config/README.md follow it."""
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    assert schema["properties"]["data"]["items"]["oneOf"][0]["enum"] == list(GENERATORS)
    assert set(GENERATORS) == {"linspace", RANDOM_INT, *GENERATOR_DRAWS}
    documented = (REPO / "config" / "README.md").read_text()
    assert all(f"- `{name}`:" in documented for name in GENERATORS)
    for spec in check_sources(list(GENERATORS)):
        assert open_source(spec, 42).array(3).shape == (3,), spec.kind


def source(item, seed=42):
    return open_source(check_sources([item])[0], seed)


@pytest.mark.parametrize("size", [1, 2, 3, 10, 1001, CHUNK + 7])
def test_linspace_is_the_tutorials_bit_for_bit(size):
    linspace = source("linspace")
    expected = np.linspace(0, 100, size)
    assert np.array_equal(linspace.array(size), expected)
    blocks = np.concatenate(list(linspace.blocks(size, 333)))
    assert blocks.tobytes() == expected.tobytes()


@pytest.mark.parametrize("name", [g for g in GENERATORS if g != "linspace"])
def test_generators_are_seeded_and_the_same_in_any_blocks(name):
    size = 2 * CHUNK + 123
    whole = source(name).array(size)
    assert whole.shape == (size,)
    assert np.array_equal(np.concatenate(list(source(name).blocks(size, 10_000))), whole)
    assert np.array_equal(source(name).array(size), whole)  # same seed, same values
    assert not np.array_equal(source(name, seed=7).array(size), whole)
    assert np.array_equal(source(name).block(size, 5, 50), whole[5:50])


def test_generators_have_their_documented_shape():
    n = 100_000
    ints = source("random_int").array(n)
    assert ints.dtype == np.int32 and ints.min() >= 0 and ints.max() <= 1000
    sparse = source("sparse").array(n)
    assert 0.98 < np.mean(sparse == 0) < 0.999
    smooth = source("smooth").array(n)
    assert np.allclose(smooth, np.round(smooth, 2)) and np.abs(np.diff(smooth)).max() < 1
    noisy = source("noisy_float").array(n)
    assert noisy.dtype == np.float64 and len(np.unique(noisy)) == n


def test_npy_file_is_sliced_and_tiled_with_its_dtype(tmp_path):
    data = np.arange(12, dtype=np.int16).reshape(3, 4)
    np.save(tmp_path / "a.npy", data)
    npy = source({"file": str(tmp_path / "a.npy")})
    assert npy.label == "a" and npy.dtype == np.int16 and npy.length == 12
    assert np.array_equal(npy.array(5), np.arange(5))
    assert np.array_equal(npy.array(30), np.resize(np.arange(12), 30))
    assert np.array_equal(np.concatenate(list(npy.blocks(30, 7))), np.resize(np.arange(12), 30))


def test_hdf5_dataset_is_read_in_blocks_of_rows(tmp_path):
    path = tmp_path / "d.h5"
    data = np.arange(60, dtype=np.float32).reshape(10, 6)
    with h5py.File(path, "w") as h5:
        h5.create_dataset("g/x", data=data, chunks=(2, 6), compression="gzip")
        h5["soft"] = h5py.SoftLink("/g/x")  # a link inside the file is fine
    for name in ("/g/x", "/soft"):
        h5src = source({"file": f"{path}:{name}"})
        assert h5src.dtype == np.float32 and h5src.length == 60
        assert np.array_equal(h5src.block(100, 13, 80), np.resize(data.ravel(), 100)[13:80])
    assert source({"file": f"{path}:/g/x"}).label == "d_x"


def test_parquet_and_csv_numeric_columns_column_after_column(tmp_path):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5], "text": ["x", "y", "z"]})
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "t.parquet")
    frame.to_csv(tmp_path / "t.csv", index=False)
    for name in ("t.parquet", "t.csv"):
        table = source({"file": str(tmp_path / name), "columns": ["a", "b"], "name": "table"})
        assert table.dtype == np.float64
        assert np.array_equal(table.array(6), [1, 2, 3, 0.5, 1.5, 2.5])
    ints = source({"file": str(tmp_path / "t.csv"), "columns": ["a"]})
    assert ints.dtype == np.int64 and np.array_equal(ints.array(4), [1, 2, 3, 1])


# --- refusals: each names the file and nothing in it runs ---


def refused(item, match, tmp_path=None):
    """The error, whether the check before the jobs or the job's reader finds it."""
    with pytest.raises(SourceError, match=match) as error:
        source(item)
    assert str(error.value).startswith("config error: data[0]")
    return error.value


def test_pickle_disguised_as_npy_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.npy"
    path.write_bytes(pickle.dumps(Planted(marker)))
    error = refused({"file": str(path)}, "a pickle, not a .npy array")
    assert str(path) in str(error)
    assert not marker.exists()


def test_object_dtype_npy_is_refused(tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([1, "a", Planted(tmp_path / "ran")], dtype=object), allow_pickle=True)
    refused({"file": str(path)}, "not plain numbers")
    assert not (tmp_path / "ran").exists()
    np.save(tmp_path / "rec.npy", np.zeros(3, dtype=[("a", "i4"), ("b", "f8")]))
    refused({"file": str(tmp_path / "rec.npy")}, "not plain numbers")


def test_the_jobs_numpy_reader_refuses_object_dtype_on_its_own(tmp_path):
    """Second line of defence: the job's reader refuses without the header check before it."""
    path = tmp_path / "obj.npy"
    np.save(path, np.array([Planted(tmp_path / "ran")], dtype=object), allow_pickle=True)
    with pytest.raises(SourceError, match="not plain numbers"):
        npy_table(parse_sources([{"file": str(path)}])[0])
    assert not (tmp_path / "ran").exists()


def test_missing_file_and_unknown_kind_are_refused(tmp_path):
    refused({"file": str(tmp_path / "nothing.npy")}, "no such file")
    refused({"file": str(tmp_path / "x.txt")}, "unknown file type")
    refused({"file": str(tmp_path / "x.h5")}, "name the dataset")


def test_csv_text_column_is_refused_before_and_in_the_job(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_csv(path, index=False)
    refused({"file": str(path)}, "column 'b' is not numbers")
    refused({"file": str(path), "columns": ["c"]}, "no column 'c'")
    late = tmp_path / "late.csv"  # text only after the rows checked before the jobs
    late.write_text("a\n" + "1\n" * 2000 + "oops\n")
    refused({"file": str(late)}, "column 'a' is not numbers")


def test_parquet_text_column_is_refused(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": [1, 2], "s": ["x", "y"]}), path)
    refused({"file": str(path), "columns": ["s"]}, "column 's' is not numbers")


def test_hdf5_data_outside_the_file_is_refused(tmp_path):
    raw = tmp_path / "raw.bin"
    np.arange(10, dtype=np.float64).tofile(raw)
    path = tmp_path / "ext.h5"
    with h5py.File(path, "w") as h5:
        # An external dataset through the low-level API: its bytes live in raw.bin.
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_external(str(raw).encode(), 0, 80)
        space = h5py.h5s.create_simple((10,))
        h5py.h5d.create(h5.id, b"external", h5py.h5t.IEEE_F64LE, space, dcpl=dcpl)
        h5["outside"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/x")
        layout = h5py.VirtualLayout(shape=(10,), dtype="f8")
        layout[:] = h5py.VirtualSource(str(tmp_path / "other.h5"), "x", shape=(10,))
        h5.create_virtual_dataset("virtual", layout)
        h5["text"] = np.array([b"a", b"b"])
        h5.create_group("group")
    with h5py.File(tmp_path / "other.h5", "w") as other:
        other["x"] = np.zeros(10)
    refused({"file": f"{path}:/external"}, "external raw file")
    refused({"file": f"{path}:/outside"}, "link to another file")
    refused({"file": f"{path}:/virtual"}, "virtual dataset")
    refused({"file": f"{path}:/text"}, "not plain numbers")
    refused({"file": f"{path}:/group"}, "is a group")
    refused({"file": f"{path}:/missing"}, "no dataset /missing")
    fake = tmp_path / "fake.h5"
    fake.write_bytes(b"not hdf5 at all")
    refused({"file": f"{fake}:/x"}, "not an HDF5 file")


def test_labels_must_be_unique(tmp_path):
    with pytest.raises(SourceError, match=r"data\[1\] = 'linspace': listed twice"):
        parse_sources(["linspace", "linspace"])
    with pytest.raises(SourceError, match=r"data\[1\]\.name"):
        parse_sources([{"file": "a/x.npy"}, {"file": "b/x.npy"}])


# --- random_int with a range and dtype of its own ---

INT_RANGES = [
    (-128, 127, "int8"),
    (0, 255, "uint8"),
    (-5, 5, "int16"),
    (7, 7, "uint32"),
    (-(2**63), 2**63 - 1, "int64"),
    (0, 2**64 - 1, "uint64"),
    (2**40, 2**40 + 3, "int64"),
]


@pytest.mark.parametrize("low,high,dtype", INT_RANGES, ids=[f"{r[2]}[{r[0]},{r[1]}]" for r in INT_RANGES])
def test_random_int_draws_its_range_in_its_dtype(low, high, dtype):
    item = {"random_int": {"low": low, "high": high, "dtype": dtype}}
    size = CHUNK + 1000
    ints = source(item)
    assert ints.label == f"random_int_{low}_{high}_{dtype}" and ints.dtype == np.dtype(dtype)
    values = ints.array(size)
    assert values.dtype == np.dtype(dtype) and values.shape == (size,)
    assert low <= int(values.min()) and int(values.max()) <= high
    if high - low < 1000:  # a small range: both ends drawn
        assert int(values.min()) == low and int(values.max()) == high
    assert np.array_equal(source(item).array(size), values)  # from `seed`
    assert np.array_equal(np.concatenate(list(ints.blocks(size, 9999))), values)
    assert np.array_equal(source(item, seed=7).array(size), values) == (low == high)


def test_plain_random_int_keeps_its_values():
    """[0, 1000] int32 from the streams data/random_int/<chunk>, whichever way it is written."""
    from outofcore.core.seeding import rng_for

    expected = rng_for(42, "data/random_int/0").integers(0, 1000, size=CHUNK, endpoint=True, dtype=np.int32)
    assert np.array_equal(source("random_int").array(CHUNK), expected)
    for item in ({"random_int": {}}, {"random_int": None}, {"random_int": {"high": 1000}, "name": "same"}):
        ints = source(item)
        assert ints.dtype == np.int32 and np.array_equal(ints.array(CHUNK), expected)
    assert source({"random_int": None}).label == "random_int_0_1000_int32"
    assert source({"random_int": {"high": 1000}, "name": "same"}).label == "same"


def test_random_int_variants_are_told_apart():
    small = {"random_int": {"low": -3, "high": 3, "dtype": "int8"}, "name": "small"}
    specs = parse_sources(["random_int", {"random_int": {"high": 255, "dtype": "uint8"}}, small])
    assert [s.label for s in specs] == ["random_int", "random_int_0_255_uint8", "small"]
    assert [s.int_range for s in specs] == [(0, 1000, "int32"), (0, 255, "uint8"), (-3, 3, "int8")]
    assert parse_sources([{"random_int": {"low": -128, "high": 127, "dtype": "int8"}}])[0].label == (
        "random_int_-128_127_int8"
    )


@pytest.mark.parametrize(
    "item,key,reason",
    [
        ({"random_int": {"low": 3, "high": 2}}, r"data\[0\]\.random_int\.high = 2", r"must be >= low \(3\)"),
        (
            {"random_int": {"high": 256, "dtype": "uint8"}},
            r"data\[0\]\.random_int\.high = 256",
            r"outside uint8 \[0, 255\]",
        ),
        (
            {"random_int": {"low": -(2**31) - 1}},
            r"data\[0\]\.random_int\.low = -2147483649",
            r"outside int32",
        ),
        (
            {"random_int": {"dtype": "float32"}},
            r"data\[0\]\.random_int\.dtype = 'float32'",
            "unknown integer dtype",
        ),
        (
            {"random_int": {"dtype": ["int8"]}},
            r"data\[0\]\.random_int\.dtype = \['int8'\]",
            "unknown integer",
        ),
        ({"random_int": {"low": 1.5}}, r"data\[0\]\.random_int\.low = 1\.5", "must be a whole number"),
        ({"random_int": {"low": True}}, r"data\[0\]\.random_int\.low = True", "must be a whole number"),
        (
            {"random_int": {"size": 3}},
            r"data\[0\]\.random_int\.size = 3",
            r"unknown key \(allowed: dtype, high, low\)",
        ),
        ({"random_int": {}, "file": "x.npy"}, r"data\[0\]\.file = 'x\.npy'", "unknown key"),
        ({"random_int": [1, 2]}, r"data\[0\]\.random_int = \[1, 2\]", "must be a mapping"),
        ({"random_int": {}, "name": "a/b"}, r"data\[0\]\.name = 'a/b'", "letters, digits"),
    ],
)
def test_random_int_refusals(item, key, reason):
    with pytest.raises(SourceError, match=f"^config error: {key}: {reason}"):
        parse_sources([item])


def test_the_same_random_int_twice_is_refused():
    with pytest.raises(
        SourceError, match=r"data\[1\]\.random_int = 'b': the same values as a \(\[0, 9\], int8\)"
    ):
        nine = {"high": 9, "dtype": "int8"}
        parse_sources([{"random_int": nine, "name": "a"}, {"random_int": nine, "name": "b"}])
    with pytest.raises(SourceError, match=r"data\[1\]\.name = 'random_int_0_9_int8': two entries"):
        parse_sources([{"random_int": {"high": 9, "dtype": "int8"}}, {"file": "random_int_0_9_int8.npy"}])
