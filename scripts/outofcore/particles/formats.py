"""The particle table in the formats people pick instead of PyTables, and their engines.

The same records (same dtype and values) are written to Parquet with pyarrow and to
pandas' HDFStore (`format="table"`, the queried columns as `data_columns`). The query
tree is translated for each engine by `outofcore.particles.engines`: DuckDB's relational API
and Polars' `scan_parquet` and `pyarrow.dataset` over the Parquet file, `HDFStore.select`
over the HDFStore file. Names are stored as text (Arrow `string`, pandas `str`), their
natural type there; they are 16 ASCII bytes, so the round trip is exact.

Untrusted files: the HDFStore file is refused if its attributes hold a code-running
pickle (PyTables, under pandas, unpickles them on opening); a Parquet file is checked
against the expected schema and only ever read by the engines, never into pandas objects
(its pandas metadata, if any, is JSON and is ignored).
"""

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from outofcore.particles.engines import to_arrow, to_duckdb, to_hdfstore, to_polars
from outofcore.particles.table import PARTICLE_DTYPE
from outofcore.plan.query import Query, QueryError, columns_of
from outofcore.safety.hdf5 import refuse_unsafe

FORMATS = ("parquet", "hdfstore")  # particles.formats; PyTables is always there
ENGINES = {"parquet": ("duckdb", "polars", "arrow"), "hdfstore": ("hdfstore",)}
HDFSTORE_KEY = "detector/readout"  # the PyTables table's path, as a pandas key
COLUMNS = ["name", "idnumber", "pressure", "energy"]
ARROW_SCHEMA = pa.schema(
    [("name", pa.string()), ("idnumber", pa.int64()), ("pressure", pa.float32()), ("energy", pa.float64())]
)


class UnsafeParquet(ValueError):
    """The Parquet file is not the particle table this stage writes."""


# -- threads ---------------------------------------------------------------------------


def set_engine_threads(threads: int) -> dict[str, int]:
    """Give DuckDB, Polars and Arrow `threads` threads; return what each really has.

    Polars sizes its pool once, when first imported: POLARS_MAX_THREADS must be set
    before. DuckDB takes its count per connection (`connect_duckdb`)."""
    if "polars" not in sys.modules:
        os.environ["POLARS_MAX_THREADS"] = str(threads)
    import polars as pl

    pa.set_cpu_count(threads)
    pa.set_io_thread_count(threads)
    return {"duckdb": threads, "polars": pl.thread_pool_size(), "arrow": pa.cpu_count()}


def connect_duckdb(threads: int) -> Any:
    import duckdb

    return duckdb.connect(config={"threads": threads})


# -- writing ---------------------------------------------------------------------------


def arrow_table(records: np.ndarray) -> pa.Table:
    """The records as an Arrow table: names (16 bytes each) as `string`, no copy of the
    numeric columns."""
    names = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), len(records), [None, pa.py_buffer(np.ascontiguousarray(records["name"]))]
    )
    columns = [names.cast(pa.string())]
    columns += [pa.array(np.ascontiguousarray(records[name])) for name in COLUMNS[1:]]
    return pa.Table.from_arrays(columns, schema=ARROW_SCHEMA)


def write_parquet(path: str | Path, records: np.ndarray, compression: str, row_group_rows: int) -> None:
    """Parquet with statistics per row group (min/max: what lets a reader skip groups)."""
    pq.write_table(
        arrow_table(records),
        path,
        compression=compression,
        row_group_size=row_group_rows,
        write_statistics=True,
    )


def pandas_frame(records: np.ndarray) -> pd.DataFrame:
    """The records as a pandas user has them: names as `str` (Arrow-backed, pandas' own
    default; built through Arrow, 10x faster than decoding into Python strings)."""
    return arrow_table(records).to_pandas()


def write_hdfstore(path: str | Path, records: np.ndarray, query: Query) -> None:
    """pandas' HDFStore, `format="table"`, the queried columns as data columns (the
    only ones its `where` can test). No times in the file: same rows, same bytes."""
    frame = pandas_frame(records)
    with pd.HDFStore(path, mode="w") as store:
        store.put(
            HDFSTORE_KEY,
            frame,
            format="table",
            data_columns=columns_of(query),
            index=False,  # pandas would index the data columns: timed apart like PyTables'
            track_times=False,
        )


def writers(
    query: Query, compression: str, row_group_rows: int
) -> dict[str, Callable[[Path, np.ndarray], None]]:
    return {
        "parquet": lambda path, records: write_parquet(path, records, compression, row_group_rows),
        "hdfstore": lambda path, records: write_hdfstore(path, records, query),
    }


# -- reading ---------------------------------------------------------------------------


def check_parquet(path: str | Path) -> None:
    """Refuse a Parquet file that is not a plain particle table: other columns or types,
    or Arrow extension types (whose deserializers are code). Reads the footer only."""
    schema = pq.read_schema(path)
    if not schema.remove_metadata().equals(ARROW_SCHEMA):
        raise UnsafeParquet(f"{path}: schema {schema.remove_metadata()} is not the particle table's")
    for field in schema:
        if field.metadata and any(key.startswith(b"ARROW:extension") for key in field.metadata):
            raise UnsafeParquet(f"{path}: column {field.name} carries an Arrow extension type")


def engine_queries(paths: dict[str, Path], query: Query, threads: int) -> dict[str, Callable[[], Any]]:
    """Every engine over the files in `paths` (format -> file): each call runs the whole
    query (opens the file, filters, collects the rows) and returns the engine's result."""
    calls: dict[str, Callable[[], Any]] = {}
    if "parquet" in paths:
        import polars as pl

        parquet = paths["parquet"]
        check_parquet(parquet)
        duck, duck_filter = connect_duckdb(threads), to_duckdb(query)
        polars_filter, arrow_filter = to_polars(query), to_arrow(query)
        calls["duckdb"] = lambda: duck.read_parquet(str(parquet)).filter(duck_filter).to_arrow_table()
        calls["polars"] = lambda: pl.scan_parquet(parquet).filter(polars_filter).collect()
        calls["arrow"] = lambda: ds.dataset(parquet, format="parquet").to_table(filter=arrow_filter)
    if "hdfstore" in paths:
        store = paths["hdfstore"]
        refuse_unsafe(store)  # pandas opens it with PyTables, which unpickles attributes
        try:
            where = to_hdfstore(query)
        except QueryError:
            return calls  # the caller logs that HDFStore cannot run this query
        calls["hdfstore"] = lambda: pd.read_hdf(store, HDFSTORE_KEY, where=where)
    return calls


def to_records(result: Any) -> np.ndarray:
    """An engine's result (Arrow table, Polars or pandas frame) as PARTICLE_DTYPE records."""
    if isinstance(result, pd.DataFrame):
        columns = {name: result[name].to_numpy() for name in COLUMNS}
    else:
        table = result if isinstance(result, pa.Table) else result.to_arrow()
        columns = {name: table.column(name).to_numpy() for name in COLUMNS}
    records = np.empty(len(columns["idnumber"]), dtype=PARTICLE_DTYPE)
    records["name"] = np.char.encode(np.asarray(columns["name"], dtype=str), "ascii")
    for name in COLUMNS[1:]:
        records[name] = columns[name]
        if columns[name].dtype != PARTICLE_DTYPE[name]:
            raise RuntimeError(f"column {name} came back as {columns[name].dtype}")
    return records


def same_rows(expected: np.ndarray, found: np.ndarray, engine: str) -> None:
    """RuntimeError unless `found` holds exactly the rows `expected` (any order; the
    idnumbers are unique), byte for byte."""
    want, got = np.sort(expected, order="idnumber"), np.sort(found, order="idnumber")
    if want.tobytes() != got.tobytes():
        raise RuntimeError(
            f"query engines disagree: {engine} returned {len(found)} rows, PyTables found {len(expected)}"
            + ("" if len(found) != len(expected) else " (different values)")
        )
