"""What every table format shares: the records as Arrow and pandas tables (names as
text, their natural type there: 16 ASCII bytes, so the round trip is exact), the engines'
threads, and the check that an engine returned exactly PyTables' rows."""

import os
import sys
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from outofcore.particles.table import PARTICLE_DTYPE

COLUMNS = ["name", "idnumber", "pressure", "energy"]
ARROW_SCHEMA = pa.schema(
    [("name", pa.string()), ("idnumber", pa.int64()), ("pressure", pa.float32()), ("energy", pa.float64())]
)


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


# -- the records as tables -------------------------------------------------------------


def arrow_table(records: np.ndarray) -> pa.Table:
    """The records as an Arrow table: names (16 bytes each) as `string`, no copy of the
    numeric columns."""
    columns = [_names_as_strings(np.ascontiguousarray(records["name"]))]
    columns += [pa.array(np.ascontiguousarray(records[name])) for name in COLUMNS[1:]]
    return pa.Table.from_arrays(columns, schema=ARROW_SCHEMA)


def _names_as_strings(raw: np.ndarray) -> pa.Array:
    """Fixed-width names as an Arrow `string` column. Names that fill every byte with ASCII
    (the tutorial's `'Particle: %6d'` in 16 bytes) are the string data as they lie: offsets
    every 16 bytes, no copy and no cast; others (shorter, so NUL-padded, not ASCII, or past
    int32 offsets) go through Arrow's checked cast."""
    width = raw.dtype.itemsize
    data = raw.view(np.uint8)
    if len(raw) and (len(raw) + 1) * width < 2**31 and data.min() > 0 and data.max() < 128:
        offsets = np.arange(0, (len(raw) + 1) * width, width, dtype=np.int32)
        return pa.StringArray.from_buffers(len(raw), pa.py_buffer(offsets), pa.py_buffer(raw))
    names = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(raw), [None, pa.py_buffer(raw)])
    return names.cast(pa.string())


def pandas_frame(records: np.ndarray) -> pd.DataFrame:
    """The records as a pandas user has them: names as `str` (Arrow-backed, pandas' own
    default; built through Arrow, 10x faster than decoding into Python strings)."""
    return arrow_table(records).to_pandas()


# -- answers ---------------------------------------------------------------------------


def _names(column: Any) -> np.ndarray:
    """An Arrow text column as 16-byte names, through Arrow's fixed-size binary: no Python
    string per row (half a million rows: 20 ms instead of a second). A name that is not
    16 bytes (the table holds none) goes the slow way, and then compares unequal."""
    try:
        fixed = pc.cast(column, pa.binary(16))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return np.char.encode(np.asarray(column.to_numpy(), dtype=str), "ascii")
    if isinstance(fixed, pa.ChunkedArray):
        fixed = fixed.combine_chunks()
    if fixed.null_count:
        return np.char.encode(np.asarray(column.to_numpy(), dtype=str), "ascii")
    return np.frombuffer(fixed.buffers()[1], dtype="S16", count=len(fixed), offset=16 * fixed.offset)


def to_records(result: Any) -> np.ndarray:
    """An engine's result (Arrow table, Polars or pandas frame) as PARTICLE_DTYPE records."""
    if isinstance(result, pd.DataFrame):
        columns = {name: result[name].to_numpy() for name in COLUMNS}
        names = np.char.encode(np.asarray(columns["name"], dtype=str), "ascii")
    else:
        table = result if isinstance(result, pa.Table) else result.to_arrow()
        columns = {name: table.column(name).to_numpy() for name in COLUMNS[1:]}
        names = _names(table.column("name"))
    records = np.empty(len(columns["idnumber"]), dtype=PARTICLE_DTYPE)
    records["name"] = names
    for name in COLUMNS[1:]:
        records[name] = columns[name]
        if columns[name].dtype != PARTICLE_DTYPE[name]:
            raise RuntimeError(f"column {name} came back as {columns[name].dtype}")
    return records


def same_rows(expected: np.ndarray, found: np.ndarray, engine: str) -> None:
    """RuntimeError unless `found` holds exactly the rows `expected` (any order; the
    idnumbers are unique), byte for byte."""
    want, got = _by_idnumber(expected), _by_idnumber(found)
    if (
        len(want) != len(got)
        or want.dtype.itemsize != got.dtype.itemsize
        or not np.array_equal(want.view(np.uint8), got.view(np.uint8))
    ):
        raise RuntimeError(
            f"query engines disagree: {engine} returned {len(found)} rows, PyTables found {len(expected)}"
            + ("" if len(found) != len(expected) else " (different values)")
        )


def _by_idnumber(records: np.ndarray) -> np.ndarray:
    """The records in idnumber order, contiguous: an argsort of the ids and one take
    (sorting the structured array itself is 100x slower), none if already in order."""
    ids = records["idnumber"]
    if len(ids) > 1 and not (ids[1:] > ids[:-1]).all():
        records = records[np.argsort(ids, kind="stable")]
    return np.ascontiguousarray(records)
