"""The particle table: exact rows, both fills identical, compression honoured, every
query method agreeing with an exact reference (real HDF5 files, real engines)."""

import math
import socket
import struct
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import tables
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, load_config
from outofcore.particles import bench as particle_bench
from outofcore.particles import queries as particle_queries
from outofcore.particles import questions as particle_questions
from outofcore.particles import table as particle_table
from outofcore.particles.engines import indexable_columns, to_numexpr
from outofcore.particles.selectivity import selectivity
from outofcore.plan import sizing
from outofcore.plan.query import parse_query

TUTORIAL_QUERY = "(20 <= pressure) & (pressure < 50)"
# harmless, see particles.py (pytest resets the stage's own filter for each test)
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning:tables.index")


# Every way the stage queries the PyTables table, in the order it times them.
PYTABLES_QUERIES = [
    "create_csindex",
    "iterrows",
    "where",
    "read_where",
    "indexed",
    "pandas",
    "pandas_bytes",
    "numpy",
    "read",
]


def f32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def tutorial_row(i: int) -> tuple:
    """Row i as the tutorial defines it, in Python numbers (energy correctly rounded)."""
    pressure = f32(float(i * i))
    energy = float(Fraction(pressure) ** 4)  # Fraction -> float rounds correctly
    return particle_table.tutorial_name(i), i * 2**34, pressure, energy


def write_table(path, rows: np.ndarray, filters=None) -> None:
    with tables.open_file(path, "w") as h5:
        particle_table.create_readout(
            h5, max(len(rows), 1), filters or particle_table.filters_for("none")
        ).append(rows)


# -- the rows ----------------------------------------------------------------------------


def test_description_is_the_tutorials():
    assert (
        np.dtype([("energy", "<f8"), ("idnumber", "<i8"), ("name", "S16"), ("pressure", "<f4")])
        == particle_table.PARTICLE_DTYPE
    )


def test_record_size_the_rules_use_is_the_dtypes():
    """The rules size disk requests with plan.sizing's copy: it must match the real record."""
    assert (
        sizing.PARTICLE_BYTES == particle_table.RECORD_BYTES == particle_table.PARTICLE_DTYPE.itemsize == 36
    )


def test_resource_requests_of_a_million_rows():
    """The requests the rule makes at the default size (MB, minutes)."""
    assert (sizing.particles_mem_mb(10**6), sizing.particles_disk_mb(10**6)) == (881, 284)
    assert (sizing.particles_runtime(10), sizing.particles_runtime(10**6)) == (10, 13)


def test_ten_rows_are_the_tutorials(tmp_path):
    path = tmp_path / "t.h5"
    particle_table.fill_row_by_row(path, 10, particle_table.filters_for("none"))
    with tables.open_file(path) as h5:
        table = h5.root.detector.readout
        assert table.title == "Readout example" and h5.root.detector._v_title == "Detector information"
        rows = table.read()
    assert rows["name"].tolist() == [b"Particle: %6d" % i for i in range(10)]
    assert rows["pressure"].tolist() == [float(i * i) for i in range(10)]
    assert rows["energy"].tolist() == [float(i**8) for i in range(10)]
    assert rows["idnumber"].tolist() == [i * 2**34 for i in range(10)]


SAMPLE_ROWS = [
    *range(0, 120),
    4095,
    4096,
    4097,  # i*i around 2**24: pressure starts rounding
    999_999,
    1_000_000,
    1_000_009,
    1_000_010,  # names cut to 16 bytes from here
    9_999_999,
    10_000_000,
    94_906_265,
    94_906_266,  # i*i around 2**53: float(i*i) rounds
    2**29 - 1,
]


@pytest.mark.parametrize("i", SAMPLE_ROWS)
def test_generated_row_is_exact(i):
    row = particle_table.make_particles(i, i + 1)[0]
    name, idnumber, pressure, energy = tutorial_row(i)
    assert (row["name"], int(row["idnumber"]), float(row["pressure"]), float(row["energy"])) == (
        name,
        idnumber,
        pressure,
        energy,
    )


def test_names_across_chunks_and_decades(monkeypatch):
    monkeypatch.setattr(particle_table, "GENERATE_CHUNK", 7)  # many odd chunks
    for start, stop in [(0, 50), (999_990, 1_000_030), (9_999_950, 10_000_120), (123_456_700, 123_456_800)]:
        rows = particle_table.make_particles(start, stop)
        assert rows["name"].tolist() == [particle_table.tutorial_name(i) for i in range(start, stop)]
        assert rows["idnumber"].tolist() == [i * 2**34 for i in range(start, stop)]


def test_row_and_block_fills_write_the_same_table(tmp_path, monkeypatch):
    monkeypatch.setattr(particle_table, "BLOCK_ROWS", 333)  # blocks that do not divide the table
    monkeypatch.setattr(particle_table, "CHUNK_ROWS", 100)
    nrows = 1500
    filters = particle_table.filters_for("none")
    expected = particle_table.make_particles(0, nrows)
    particle_table.fill_row_by_row(tmp_path / "row.h5", nrows, filters)
    particle_table.fill_blocks(tmp_path / "block.h5", expected, filters, block_rows=333)
    particle_table.fill_chunks(tmp_path / "chunks.h5", expected)  # 15 whole chunks and a padded one
    for method in ("row", "block", "chunks"):
        particle_table.check_table(tmp_path / f"{method}.h5", expected, method)
    # byte-identical files (the preallocated space is given back): the table is reproducible data
    assert (tmp_path / "row.h5").read_bytes() == (tmp_path / "block.h5").read_bytes()


def test_check_table_catches_a_different_row(tmp_path):
    rows = particle_table.make_particles(0, 20)
    write_table(tmp_path / "t.h5", rows)
    rows["pressure"][13] += 1
    with pytest.raises(RuntimeError, match="first bad row 13"):
        particle_table.check_table(tmp_path / "t.h5", rows, "test")


def available_complibs() -> list[str]:
    return [c for c in tables.filters.all_complibs if tables.which_lib_version(c.split(":")[0])]


def test_schema_offers_exactly_the_available_complibs():
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    enum = schema["properties"]["particles"]["properties"]["compression"]["enum"]
    assert enum == ["none", *available_complibs()]


@pytest.mark.parametrize("compression", ["none", "zlib", "blosc:lz4", "blosc2:zstd", "bzip2"])
def test_compression_is_honoured(tmp_path, compression):
    path = tmp_path / "t.h5"
    rows = particle_table.make_particles(0, 5000)
    particle_table.fill_blocks(path, rows, particle_table.filters_for(compression), block_rows=1024)
    with tables.open_file(path) as h5:
        filters = h5.root.detector.readout.filters
    if compression == "none":
        assert filters.complevel == 0
    else:
        assert (filters.complib, filters.complevel, filters.shuffle) == (compression, 5, True)
    particle_table.check_table(path, rows, compression)


def test_unavailable_compression_is_refused():
    with pytest.raises(ValueError, match="lzo"):
        particle_table.filters_for("lzo")


@pytest.mark.parametrize("rows", [0, -1, 2**29])
def test_rows_bound(rows):
    with pytest.raises(ValueError, match=r"rows must be in 1\.\.536870911"):
        particle_table.check_rows(rows)
    particle_table.check_rows(2**29 - 1)  # the largest: idnumber still fits int64
    assert (2**29 - 1) * 2**34 <= np.iinfo(np.int64).max < 2**29 * 2**34


# -- queries -----------------------------------------------------------------------------


def test_tutorial_query_on_ten_rows(tmp_path):
    particle_table.fill_blocks(
        tmp_path / "t.h5", particle_table.make_particles(0, 10), particle_table.filters_for("none")
    )
    rows, timings = particle_bench.run_queries(
        tmp_path / "t.h5", tmp_path, parse_query(TUTORIAL_QUERY), repeats=1
    )
    frame = particle_queries.query_frame(rows)
    assert list(frame.columns) == ["name", "idnumber", "pressure", "energy"]
    assert frame["name"].tolist() == ["Particle:      5", "Particle:      6", "Particle:      7"]
    assert frame["pressure"].tolist() == [25.0, 36.0, 49.0]
    assert frame["idnumber"].tolist() == [i * 2**34 for i in (5, 6, 7)]
    assert frame["energy"].tolist() == [25.0**4, 36.0**4, 49.0**4]
    methods = [t.method for t in timings]
    assert methods == PYTABLES_QUERIES
    assert all(t.matches == 3 for t in timings if t.method not in ("create_csindex", "read"))
    assert not list(tmp_path.glob("indexed*"))  # the indexed copy is gone


def test_scans_run_numexpr_on_one_thread_and_pandas_on_the_jobs():
    import numexpr

    before = numexpr.get_num_threads()
    try:
        wanted = {"where": 1, "read_where": 1, "indexed": 1, "hdfstore": 1, "pandas": 3, "pandas_bytes": 3}
        for method, want in wanted.items():
            count = particle_queries.numexpr_threads(method, 3)
            particle_queries.with_numexpr_threads(count)()  # what a timed point runs before its sample
            assert count == want and numexpr.get_num_threads() == want
    finally:
        numexpr.set_num_threads(before)


def test_disagreeing_methods_fail_loudly(tmp_path):
    write_table(tmp_path / "t.h5", particle_table.make_particles(0, 10))
    with tables.open_file(tmp_path / "t.h5") as h5:
        table = h5.root.detector.readout
        good = np.array([5, 6, 7])
        with pytest.raises(RuntimeError, match="query methods disagree: where"):
            particle_queries.matching_rows({"iterrows": good, "where": np.array([5, 6])}, table)
        with pytest.raises(RuntimeError, match="query methods disagree: read_where"):
            particle_queries.matching_rows(
                {"iterrows": good, "read_where": table.read_coordinates([5, 6, 8])}, table
            )
        assert len(particle_queries.matching_rows({"a": good, "b": table.read_coordinates(good)}, table)) == 3


# A table with rows where float32 and float64 round (large i), next to small ones.
QUERY_ROW_NUMBERS = np.r_[0:64, 4090:4100, 94_906_260:94_906_270, 2**29 - 6 : 2**29]


@pytest.fixture(scope="module")
def query_table(tmp_path_factory):
    """(table, copy to index, path, rows in memory, Python values per row)."""
    directory = tmp_path_factory.mktemp("query")
    rows = np.concatenate([particle_table.make_particles(i, i + 1) for i in QUERY_ROW_NUMBERS])
    path, indexed_path = directory / "t.h5", directory / "indexed.h5"
    write_table(path, rows)
    write_table(indexed_path, rows)
    with (
        particle_queries.open_table(path) as h5,
        particle_queries.open_table(indexed_path, "a") as h5_indexed,
    ):
        python_rows = [
            {"energy": float(r["energy"]), "idnumber": int(r["idnumber"]), "pressure": float(r["pressure"])}
            for r in rows
        ]
        yield h5.root.detector.readout, h5_indexed.root.detector.readout, path, rows, python_rows


def column_values(rows: np.ndarray, name: str) -> list:
    """Literals that hit the stored values exactly, and their neighbours in both precisions."""
    values = []
    for value in rows[name][::7].tolist():
        values.append(value)
        if name != "idnumber":
            values += [math.nextafter(value, math.inf), math.nextafter(value, -math.inf)]
            if abs(value) < 3e38:  # the next float32, where it exists
                values.append(float(np.nextafter(np.float32(value), np.float32(np.inf))))
        else:
            values += [value + 1, value - 0.5]
    return values


ROWS_FOR_LITERALS = np.concatenate([particle_table.make_particles(i, i + 1) for i in QUERY_ROW_NUMBERS])
COLUMNS = ["energy", "idnumber", "pressure"]
OPS = ["<", "<=", ">", ">=", "==", "!="]


def literal(column: str) -> st.SearchStrategy:
    exact = column_values(ROWS_FOR_LITERALS, column)
    return st.one_of(
        st.sampled_from(exact),
        st.integers(-(2**62), 2**62),
        st.integers(-100, 5000),
        st.floats(-1e18, 1e18, allow_nan=False, allow_infinity=False),
    )


@st.composite
def comparison(draw) -> tuple[str, object]:
    """(text, exact reference row -> bool): column op literal, literal op column, chains,
    or two columns."""
    op = draw(st.sampled_from(OPS))
    left = draw(st.sampled_from(COLUMNS))
    kind = draw(st.sampled_from(["column-literal", "literal-column", "columns", "chain"]))
    compare = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
    }
    if kind == "columns":
        right = draw(st.sampled_from(COLUMNS))
        return f"({left} {op} {right})", lambda row: compare[op](row[left], row[right])
    value = draw(literal(left))
    if kind == "column-literal":
        return f"({left} {op} {value!r})", lambda row: compare[op](row[left], value)
    if kind == "literal-column":
        return f"({value!r} {op} {left})", lambda row: compare[op](value, row[left])
    op2, value2 = draw(st.sampled_from(["<", "<="])), draw(literal(left))
    return (
        f"({value!r} {op2} {left} {op} {value2!r})",
        lambda row: compare[op2](value, row[left]) and compare[op](row[left], value2),
    )


def combine(children: st.SearchStrategy) -> st.SearchStrategy:
    def both(pair, symbol):
        (a, fa), (b, fb) = pair
        if symbol == "&":
            return f"({a} & {b})", lambda row: fa(row) and fb(row)
        return f"({a} | {b})", lambda row: fa(row) or fb(row)

    return st.one_of(
        st.tuples(children, children).map(lambda p: both(p, "&")),
        st.tuples(children, children).map(lambda p: both(p, "|")),
        children.map(lambda c: (f"~{c[0]}", lambda row, f=c[1]: not f(row))),
    )


QUERIES = st.recursive(comparison(), combine, max_leaves=5)


@settings(max_examples=60, deadline=None)
@given(QUERIES)
def test_every_method_finds_the_exact_rows(query_table, generated):
    """Random queries: all six methods agree with Python's exact comparisons of the
    stored values, including literals that float32 or float64 cannot represent."""
    text, reference = generated
    table, indexed, path, rows, python_rows = query_table
    query = parse_query(text)
    particle_queries.drop_indexes(indexed)
    particle_queries.create_indexes(indexed, indexable_columns(query))  # as the stage does
    methods = particle_queries.query_methods(table, indexed, path, rows, query)
    results = {method: func() for method, func in methods.items()}
    found = particle_queries.matching_rows(results, table)  # raises if two methods disagree
    expected = [i for i, row in enumerate(python_rows) if reference(row)]
    assert results["iterrows"].tolist() == expected, (text, to_numexpr(query))
    assert found.tobytes() == rows[expected].tobytes()


def test_indexed_query_uses_the_index(query_table):
    _, indexed, *_ = query_table
    particle_queries.drop_indexes(indexed)
    query = parse_query(TUTORIAL_QUERY)
    particle_queries.create_indexes(indexed, indexable_columns(query))
    assert indexed.will_query_use_indexing(to_numexpr(query)) == frozenset({"pressure"})


def test_query_frame_has_exact_pressures():
    rows = particle_table.make_particles(2**29 - 2, 2**29)
    frame = particle_queries.query_frame(rows)
    assert frame["pressure"].tolist() == [f32(float(i * i)) for i in (2**29 - 2, 2**29 - 1)]
    assert isinstance(frame, pd.DataFrame) and frame["name"].tolist() == [
        "Particle: 536870",
        "Particle: 536870",
    ]


# -- the workflow ------------------------------------------------------------------------

TINY = load_config("particles_tiny.yaml")


def test_particles_stage_end_to_end(workflow_runner):
    workflow_runner(TINY, "results/particles/query_time.png")
    out = workflow_runner.workdir / "results" / "particles"
    query = pd.read_csv(out / "10" / "query.csv")
    assert list(query.columns) == ["name", "idnumber", "pressure", "energy"]
    assert query["name"].tolist() == ["Particle:      5", "Particle:      6", "Particle:      7"]
    assert query["pressure"].tolist() == [25.0, 36.0, 49.0]
    assert query.equals(pd.read_csv(out / "2500" / "query.csv"))  # the same 3 rows
    for rows in (10, 2500):
        timings = pd.read_csv(out / str(rows) / "timings.csv")
        assert (
            list(timings.columns)
            == particle_bench.TIMINGS_COLUMNS
            == [
                "step",
                "method",
                "rows",
                "matches",
                "seconds",
                "seconds_min",
                "seconds_max",
                "repeats",
                "rows_per_s",
                "spread",
                "stable",
                "others_busy",
                "order",
                "format",
                "file_bytes",
                "threads",
                "host",
                "setting",
                "selectivity",
                "condition",
            ]
        )
        shares = TINY["particles"]["queries"] if rows == 2500 else []  # of the largest table only
        check_shares(timings[timings["selectivity"].notna()], rows, shares)
        timings = particle_bench.configured(timings)
        asked = timings[(timings["step"] == "query") & timings["matches"].notna()]
        assert set(asked["condition"]) == {"((pressure >= 20.0) & (pressure < 50.0))"}
        assert set(timings["setting"]) <= {"default", "tuned", "pipeline"}  # every row says how it was set
        assert timings["others_busy"].between(0, 1).all() and timings["others_busy"].nunique() == 1
        assert set(timings["host"]) == {socket.gethostname()}
        assert (timings["stable"] == (timings["spread"] <= 0.15)).all()
        check_other_stores(timings, out / str(rows), rows)
        timings = timings[(timings["order"] == "sorted") & ~timings["format"].isin(["parquet", "hdfstore"])]
        fill = timings[timings["step"] == "fill"].set_index("method")
        queries = timings[timings["step"] == "query"].set_index("method")
        assert set(queries.index) == set(PYTABLES_QUERIES)
        assert (queries.drop(["create_csindex", "read"])["matches"] == 3).all()
        numexpr_threads = queries["threads"].dropna().to_dict()
        assert numexpr_threads == {"where": 1, "read_where": 1, "indexed": 1, "pandas": 2, "pandas_bytes": 2}
        assert (timings["seconds"] > 0).all() and (timings["repeats"] == 3).all()
        assert (timings["seconds_min"] <= timings["seconds"]).all()
        assert (timings["seconds"] <= timings["seconds_max"]).all()
        with tables.open_file(out / str(rows) / "table.h5") as h5:
            table = h5.root.detector.readout
            assert table.nrows == rows and table.filters.complib == "blosc:lz4"
            assert not table.indexed  # the index was built on a copy
    small = particle_bench.configured(pd.read_csv(out / "10" / "timings.csv"))
    small = small.query("format != 'parquet' and format != 'hdfstore'")
    # compressed: no direct chunk writes (they would need the chunks compressed first)
    assert set(small.loc[small["step"] == "fill", "method"]) == {
        "generate",
        "row",
        "limit",
        "page_cache",
        "block",
        "append",
    }
    assert fill.loc["row", "rows"] == 1000 and fill.loc["row_extrapolated", "rows"] == 2500
    assert fill.loc["row_extrapolated", "seconds"] == pytest.approx(fill.loc["row", "seconds"] * 2.5)
    assert (out / "query_time.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "formats.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "shares.png").read_bytes().startswith(b"\x89PNG")  # the query verdict's evidence
    headline = pd.read_csv(out / "headline.csv")
    assert {"Parquet (pyarrow, tuned)", "Parquet (pyarrow, default)", "Parquet (Polars, tuned)",
            "Parquet (DuckDB COPY, default)", "HDFStore format=table (tuned)", "DuckDB on Parquet",
            "Polars on Parquet", "pyarrow.dataset on Parquet", "HDFStore.select",
            "table.append (as typed)"} <= set(headline["method"])  # fmt: skip
    assert set(headline["setting"]) == {"default", "tuned", "pipeline"}  # pipeline: PyTables' scans
    assert not headline["method"].str.contains("direct chunk").any()  # compressed: no direct chunks
    shares = headline[headline["question"] == "query 25 of 2,500 rows (1 %), rows shuffled"]
    engines = {"DuckDB on Parquet", "Polars on Parquet", "pyarrow.dataset on Parquet"}
    assert set(shares["method"]) == {"where", "indexed where", "table.read() + NumPy mask", *engines}
    assert not shares["summary"].any()  # decision candidates, not figures of the summary
    once = headline[headline["question"] == particle_questions.WRITE_ONCE].set_index("method")
    assert once.loc["row by row, then iterrows", "tutorial"] and (once["rank_by"] == "lowest").all()
    big = particle_bench.configured(pd.read_csv(out / "2500" / "timings.csv"))
    tuned = (big["setting"] != "default") | (big["method"] == "create_csindex")
    big = big[(big["order"] == "sorted") & tuned]
    seconds = big.set_index(["method", "format"])["seconds"]  # write once, then 100 queries
    polars = seconds["parquet_write", "parquet"] + 100 * seconds["polars", "parquet"]
    assert once.loc["Parquet (pyarrow, tuned), then Polars on Parquet", "value"] == pytest.approx(polars)
    index = seconds["block", "pytables"] + seconds["create_csindex", "pytables"]
    indexed = index + 100 * seconds["indexed", "pytables"]
    assert once.loc["PyTables block appends, then indexed where", "value"] == pytest.approx(indexed)
    assert not list(out.rglob(".*"))  # no scratch or partial files left
    assert (workflow_runner.workdir / "logs" / "particles_2500.log").stat().st_size > 0


def check_shares(shares: pd.DataFrame, rows: int, fractions: list[float]) -> None:
    """The shares of the rows asked (of the largest table only) on both orders by the fast
    methods, each returning the known rows (checked in the job: here, their count)."""
    fast = {"read_where", "indexed_read_where", "read_numpy", "duckdb", "polars", "arrow"}
    for fraction in fractions:
        question = selectivity(fraction, rows)
        for order in ("sorted", "shuffled"):
            mine = shares[(shares["selectivity"] == fraction) & (shares["order"] == order)]
            assert set(mine["method"]) == fast
            assert (mine["matches"] == max(1, round(fraction * rows))).all()
            assert set(mine["condition"]) == {question.condition}
    assert len(shares) == len(fractions) * 2 * len(fast)


def check_other_stores(timings: pd.DataFrame, out: Path, rows: int) -> None:
    """Parquet and HDFStore written (sorted rows, as outputs), every engine timed on both
    orders with the job's threads, and PyTables again on the shuffled rows."""
    engines = timings[timings["format"].isin(["parquet", "hdfstore"])]
    for order in ("sorted", "shuffled"):
        mine = engines[engines["order"] == order]
        writes = mine[mine["step"] == "fill"]
        every = {(m, s) for m in ("parquet_write", "polars_write", "duckdb_write", "hdfstore_write")
                 for s in ("default", "tuned")}  # fmt: skip
        outputs = {("parquet_write", "tuned"), ("hdfstore_write", "tuned")}  # shuffled: the outputs' writers
        assert set(zip(writes["method"], writes["setting"], strict=True)) == (
            every if order == "sorted" else outputs
        )
        assert (writes.loc[writes["setting"] == "default", "repeats"] == 1).all()  # timed once
        found = mine[mine["step"] == "query"].set_index("method")
        assert (found["setting"] == "tuned").all()  # the engines read the tuned files
        assert set(found.index) == {"duckdb", "polars", "arrow", "hdfstore"}
        assert (found["matches"] == 3).all()
        # PyTables' scans (HDFStore's select too) run numexpr on one thread
        assert found["threads"].to_dict() == {"duckdb": 2, "polars": 2, "arrow": 2, "hdfstore": 1}
    shuffled = timings[(timings["order"] == "shuffled") & (timings["format"] == "pytables")]
    assert set(shuffled["method"]) == {"block", "create_csindex", "where", "indexed"}
    assert (shuffled.loc[shuffled["method"].isin(["where", "indexed"]), "threads"] == 1).all()
    sizes = engines.set_index(["order", "method", "setting"])["file_bytes"]
    assert sizes["sorted", "parquet_write", "tuned"] == (out / "table.parquet").stat().st_size
    assert sizes["sorted", "hdfstore_write", "tuned"] == (out / "table_hdfstore.h5").stat().st_size
    stored = pq.read_table(out / "table.parquet")
    assert stored.num_rows == rows and stored.column("name")[0].as_py() == "Particle:      0"
    assert pq.ParquetFile(out / "table.parquet").metadata.row_group(0).column(0).compression == "SNAPPY"
    frame = pd.read_hdf(out / "table_hdfstore.h5", "detector/readout")
    assert frame["idnumber"].tolist() == [i * 2**34 for i in range(rows)]


def test_time_fills_writes_the_table_and_times_every_method(tmp_path):
    import logging

    table = tmp_path / "table.h5"
    timings = particle_bench.time_fills(
        table, tmp_path, 3000, particle_table.filters_for("none"), 1000, logging.getLogger("test")
    )
    assert [(t.method, t.rows, t.setting) for t in timings] == [
        ("generate", 3000, "default"),
        ("row", 1000, "default"),
        ("row_extrapolated", 3000, "default"),
        ("limit", 3000, "default"),
        ("page_cache", 3000, "default"),
        ("block", 3000, "tuned"),
        ("append", 3000, "default"),
        ("chunks", 3000, "pipeline"),
    ]
    bound = next(t for t in timings if t.method == "page_cache")
    assert bound.format == "raw" and bound.file_bytes == 3000 * particle_table.RECORD_BYTES  # the same bytes
    particle_table.check_table(table, particle_table.make_particles(0, 3000), "block")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.h5"]  # scratch files removed
    assert particle_table.delivered_fill(particle_table.filters_for("none")) == "chunks"
    assert particle_table.delivered_fill(particle_table.filters_for("zlib")) == "block"


def test_bytes_frame_keeps_names_as_bytes_and_numbers_as_views():
    records = particle_table.make_particles(999_998, 1_000_003)
    frame = particle_queries.bytes_frame(records)
    assert list(frame.columns) == list(records.dtype.names)
    assert frame["name"].tolist() == [particle_table.tutorial_name(i) for i in range(999_998, 1_000_003)]
    assert np.shares_memory(frame["energy"].to_numpy(), records)  # a view: no copy of the numbers
    assert frame["pressure"].dtype == np.float32
    assert frame["idnumber"].tolist() == records["idnumber"].tolist()
    found = frame.query("pressure > 1e12").index.to_numpy()
    assert found.tolist() == np.flatnonzero(records["pressure"] > 1e12).tolist()


@pytest.mark.parametrize(
    "text,matches,indexed",
    [
        ("pressure < 0", 0, True),  # nothing found: an empty query.csv
        ("pressure < energy", 8, False),  # column against column: no index can help
        ("((pressure < 3) & (idnumber >= 0)) | ((pressure > 80) & (energy > 0))", 3, False),  # issue #564
    ],
)
def test_queries_without_matches_or_index(tmp_path, text, matches, indexed):
    particle_table.fill_blocks(
        tmp_path / "t.h5", particle_table.make_particles(0, 10), particle_table.filters_for("none")
    )
    rows, timings = particle_bench.run_queries(tmp_path / "t.h5", tmp_path, parse_query(text), repeats=1)
    assert len(rows) == matches and len(particle_queries.query_frame(rows)) == matches
    methods = {t.method for t in timings}
    assert ("create_csindex" in methods) == indexed
    assert {"iterrows", "where", "read_where", "indexed", "pandas", "pandas_bytes", "numpy"} <= methods
    assert "read" in methods
