"""The particle table in Parquet and HDFStore: every engine's translation of the checked
query returns exactly the rows NumPy finds, including float32 literals, negations and
mixed &/| nestings, and the readers refuse files that could run code."""

import pickle
import struct
from pathlib import Path

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from outofcore.particles import formats as particle_formats
from outofcore.particles.engines import evaluate, to_hdfstore
from outofcore.particles.formats.registry import FORMATS
from outofcore.particles.formats.table_format import WriteOptions
from outofcore.particles.table import PARTICLE_DTYPE, tutorial_name
from outofcore.plan.query import QueryError, parse_query
from outofcore.safety.hdf5 import UnsafeFile

THREADS = particle_formats.set_engine_threads(1)


def f32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def tricky_records() -> np.ndarray:
    """Rows around the values where casting rules differ: float32 neighbours of 0.1 and of
    16777217, an int64 that float32 would round (idnumber 16777217 against pressure
    16777216), negative and zero values, the tutorial's 25, 36, 49."""
    pressure = [0.0, f32(0.1), np.nextafter(np.float32(0.1), np.float32(0)), 16777216.0, 16777218.0,
                20.0, 25.0, 36.0, 49.0, 50.0, -3.0, 1.0, 2.0, 81.0]  # fmt: skip
    n = len(pressure)
    records = np.zeros(n, dtype=PARTICLE_DTYPE)
    records["name"] = [tutorial_name(i) for i in range(n)]
    records["pressure"] = pressure
    records["idnumber"] = [i * 2**34 for i in range(n)]
    records["idnumber"][3] = 16777217  # > its pressure exactly; equal in float32
    records["idnumber"][10] = -(2**62)
    records["energy"] = records["pressure"].astype(np.float64) ** 2
    records["energy"][4] = 1e300
    return records


QUERIES = [
    "(20 <= pressure) & (pressure < 50)",
    "pressure == 16777217",
    "pressure == 0.1",
    "pressure > 0.1",
    "pressure <= 0.1",
    "pressure < 16777217",
    "pressure != 16777217",
    "~(energy > 1e6) | (pressure != -3)",
    "~((pressure == 1) | ~(idnumber < 5))",
    "((pressure < 3) & (idnumber >= 0)) | ((pressure > 80) & (energy > 0))",
    "~((pressure > 1) & (pressure < 40)) & (idnumber > -2.5)",
    "idnumber <= -4611686018427387904",
    "pressure < energy",  # columns of two types: compared as float64
    "idnumber > pressure",  # float32 would call 16777217 and 16777216 equal
    "(energy >= pressure) | (pressure < 0)",
]
COLUMN_PAIRS = QUERIES[-3:]  # HDFStore's where compares columns with numbers only


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> tuple[np.ndarray, dict[str, Path]]:
    records = tricky_records()
    out = tmp_path_factory.mktemp("stores")
    paths = {"parquet": out / "t.parquet", "hdfstore": out / "t.h5"}
    particle_formats.write_parquet(paths["parquet"], records, "zstd", 4)  # several row groups
    # every numeric column a data column: the HDFStore where can test any of them
    every_column = parse_query("(pressure < energy) | (idnumber < 0)")
    particle_formats.write_hdfstore(paths["hdfstore"], records, every_column)
    return records, paths


WRITERS = [(entry, writer) for entry in FORMATS.values() for writer in entry.writers]


@pytest.fixture(scope="module")
def every_writers_file(tmp_path_factory) -> dict[tuple[str, str, str], Path]:
    """The edge-case rows written by every registered writer: (format, method, setting) -> file."""
    records, out = tricky_records(), tmp_path_factory.mktemp("writers")
    options = WriteOptions(parse_query("(pressure < energy) | (idnumber < 0)"), "zstd", 4)
    files = {}
    for entry, writer in WRITERS:
        path = out / f"{writer.method}.{writer.setting}{entry.suffix}"
        writer.write(path, records, options)
        files[entry.name, writer.method, writer.setting] = path
    return files


@pytest.mark.parametrize("entry, writer", WRITERS, ids=[f"{w.method}-{w.setting}" for _, w in WRITERS])
def test_every_writers_file_gives_the_numpy_rows(every_writers_file, entry, writer):
    """Every engine of the format, on the file each writer made, finds exactly NumPy's rows."""
    records, path = tricky_records(), every_writers_file[entry.name, writer.method, writer.setting]
    for text in QUERIES:
        query = parse_query(text)
        calls = entry.queries(path, query, 1)
        can = {e.name for e in entry.engines} - ({"hdfstore"} if text in COLUMN_PAIRS else set())
        assert set(calls) == can
        for engine, call in calls.items():
            particle_formats.same_rows(
                records[evaluate(query, records)], particle_formats.to_records(call()), engine
            )


@pytest.mark.parametrize("text", QUERIES)
def test_every_engine_returns_exactly_the_numpy_rows(stores, text):
    records, paths = stores
    query = parse_query(text)
    expected = records[evaluate(query, records)]
    calls = particle_formats.engine_queries(paths, query, 1)
    assert set(calls) == {"duckdb", "polars", "arrow"} | (set() if text in COLUMN_PAIRS else {"hdfstore"})
    for engine, call in calls.items():
        found = particle_formats.to_records(call())
        particle_formats.same_rows(expected, found, engine)  # raises on any difference


def test_hdfstore_cannot_compare_two_columns(stores):
    _, paths = stores
    for text in COLUMN_PAIRS:
        with pytest.raises(QueryError, match="two columns"):
            to_hdfstore(parse_query(text))
        assert "hdfstore" not in particle_formats.engine_queries(paths, parse_query(text), 1)
    assert to_hdfstore(parse_query("~(pressure < 0.1)")) == "(pressure > 0.09999999403953552)"


def test_a_difference_fails_loudly(stores):
    records, _ = stores
    changed = records.copy()
    changed["energy"][0] = 1.0
    with pytest.raises(RuntimeError, match=r"duckdb returned 14 rows, PyTables found 14 \(different values"):
        particle_formats.same_rows(records, changed, "duckdb")
    with pytest.raises(RuntimeError, match="polars returned 13 rows"):
        particle_formats.same_rows(records, records[1:], "polars")


def test_engine_threads_are_set_and_reported():
    assert THREADS["arrow"] == pa.cpu_count() == 1
    assert set(THREADS) == {"duckdb", "polars", "arrow"}
    duck = particle_formats.connect_duckdb(3)
    assert duck.execute("select current_setting('threads')").fetchone()[0] == 3


def test_stored_files_are_reproducible(tmp_path):
    """Same rows, same bytes: the stores can go into the manifest."""
    records, query = tricky_records(), parse_query("pressure < 5")
    for name in ("a", "b"):
        particle_formats.write_parquet(tmp_path / f"{name}.parquet", records, "snappy", 65536)
        particle_formats.write_hdfstore(tmp_path / f"{name}.h5", records, query)
    for suffix in ("parquet", "h5"):
        assert (tmp_path / f"a.{suffix}").read_bytes() == (tmp_path / f"b.{suffix}").read_bytes()


# -- untrusted files -------------------------------------------------------------------


class Payload:
    """Unpickling this creates (opens for writing) the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_hdfstore_with_a_planted_pickle_is_refused(tmp_path):
    """pandas' own attributes are plain pickles (lists, dicts): the writer's file passes;
    one that imports or calls something is refused before pandas opens the file."""
    path, marker, query = tmp_path / "t.h5", tmp_path / "pwned", parse_query("pressure < 30")
    particle_formats.write_hdfstore(path, tricky_records(), query)
    assert set(particle_formats.engine_queries({"hdfstore": path}, query, 1)) == {"hdfstore"}
    with h5py.File(path, "a") as h5:
        h5["detector/readout"].attrs["info"] = np.void(pickle.dumps(Payload(marker), protocol=0))
    with pytest.raises(UnsafeFile, match=r"t\.h5: attributes /detector/readout:info"):
        particle_formats.engine_queries({"hdfstore": path}, query, 1)
    assert not marker.exists()


def test_parquet_is_checked_and_never_unpickled(tmp_path):
    """A Parquet file is read by the engines only; one that is not the plain particle
    table (other types, an Arrow extension type, whose deserializer is code) is refused.
    pandas metadata (JSON) is left unread."""
    records, query = tricky_records(), parse_query("pressure < 30")
    table = particle_formats.arrow_table(records)
    with_pandas = table.replace_schema_metadata({b"pandas": b'{"columns": []}'})
    pq.write_table(with_pandas, tmp_path / "pandas.parquet")
    calls = particle_formats.engine_queries({"parquet": tmp_path / "pandas.parquet"}, query, 1)
    for call in calls.values():
        particle_formats.same_rows(
            records[records["pressure"] < 30], particle_formats.to_records(call()), "x"
        )

    extension = pa.field(
        "energy", pa.float64(), metadata={b"ARROW:extension:name": b"arrow.py_extension_type"}
    )
    bad_tables = {
        "extension": table.cast(table.schema.set(3, extension)),
        "types": table.set_column(2, "pressure", table.column("pressure").cast(pa.float64())),
        "columns": table.append_column("extra", pa.array(np.zeros(len(records)))),
    }
    for name, bad in bad_tables.items():
        pq.write_table(bad, tmp_path / f"{name}.parquet")
        with pytest.raises(particle_formats.UnsafeParquet):
            particle_formats.engine_queries({"parquet": tmp_path / f"{name}.parquet"}, query, 1)
