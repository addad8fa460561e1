"""Every way the stage finds the rows matching the particle query, and the check that
they all found the same rows.

The methods: the tutorial's Python loop over `iterrows`, in-kernel `where`, `read_where`,
`where` on an indexed copy of the table, pandas' `query` (on `pd.read_hdf`'s frame, a
user's natural way, and on a frame over `table.read()` whose names stay bytes), a NumPy
mask. Each gets its condition from `outofcore.particles.engines`, rebuilt from the checked
query tree.
"""

import shutil
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numexpr
import numpy as np
import pandas as pd
import pyarrow as pa
import tables

from outofcore.core.timing import Point
from outofcore.particles.engines import evaluate, row_filter, to_numexpr
from outofcore.particles.table import TABLE_PATH
from outofcore.plan.query import Query
from outofcore.safety.hdf5 import refuse_unsafe

# PyTables' index search compares a float32 column's bounds with float64 open-range
# limits; NumPy 2 casts the limit to float32 and warns of the (harmless) overflow to inf.
warnings.filterwarnings("ignore", "overflow encountered in cast", RuntimeWarning, "tables.index")

QUERY_BUFFER = 2**20  # bytes PyTables reads per step of a scan: 1 chunk, stays in cache
QUERY_COLUMNS = ["name", "idnumber", "pressure", "energy"]
# PyTables' scans (where, read_where, the indexed where, HDFStore's select) run numexpr
# once per I/O buffer, one 2^16-row chunk: more numexpr threads are woken for every
# buffer, which costs more than the share of the work they take (10^7 rows: `where` 60 ms
# on one thread, 77 ms on two, with two-thread samples up to 3x slower). pandas' query
# evaluates whole columns at once and keeps the job's threads.
SCAN_THREADS = 1
SCAN_METHODS = {"where", "read_where", "indexed", "indexed_read_where", "hdfstore"}
NUMEXPR_METHODS = SCAN_METHODS | {"pandas", "pandas_bytes"}  # numexpr runs their condition


def numexpr_threads(method: str, threads: int) -> int:
    """The numexpr threads a query method runs on, given the job's `threads`."""
    return SCAN_THREADS if method in SCAN_METHODS else threads


def with_numexpr_threads(count: int) -> Callable[[], None]:
    """A timing setup (untimed, before each sample) giving numexpr `count` threads:
    numexpr's count is global, and the interleaved methods want different ones."""
    return lambda: numexpr.set_num_threads(count)


def query_point(method: str, func: Callable[[], object], threads: int) -> Point:
    """A query method to time: one that numexpr runs gets its thread count before each sample."""
    if method not in NUMEXPR_METHODS:
        return Point(func)
    return Point(func, with_numexpr_threads(numexpr_threads(method, threads)))


def open_table(path: str | Path, mode: str = "r", threads: int = 1, chunk_cache: bool = False) -> tables.File:
    """Open for querying. PyTables caches the rows an indexed query found (and its index
    bounds) per condition string: a repeated query then costs a dictionary lookup, not a
    query. Those caches are off, so each timed call does the whole lookup. Scans read
    `QUERY_BUFFER` bytes at a time (16 MiB by default: evicted from the CPU cache before
    numexpr reads it again). HDF5's chunk cache is off unless `chunk_cache`: a scan reads
    each chunk once, and through the cache every byte would be copied twice (file to
    cache, cache to buffer); without it HDF5 reads straight into PyTables' buffer, which
    makes `where`, `iterrows` and `table.read()` of an uncompressed table about a third
    cheaper. (An index's many small lookups keep it.) A file with pickled attributes is
    refused first."""
    refuse_unsafe(path)
    return tables.open_file(
        path,
        mode=mode,
        max_numexpr_threads=threads,
        max_blosc_threads=threads,
        iterseq_max_slots=0,
        limbounds_max_slots=0,
        io_buffer_size=QUERY_BUFFER,
        **({} if chunk_cache else {"chunk_cache_size": 0}),
    )


def query_methods(
    table: tables.Table, indexed: tables.Table, path: str | Path, data: np.ndarray, query: Query
) -> dict[str, Callable[[], np.ndarray]]:
    """Every way to find the matching rows: each returns row numbers, or (read_where) the rows."""
    condition = to_numexpr(query)
    loop = row_filter(query)

    def pandas_query() -> np.ndarray:
        frame = pd.read_hdf(path, TABLE_PATH)  # what a pandas user does with an HDF5 table
        return frame.query(condition).index.to_numpy(dtype=np.int64)

    def pandas_bytes_query() -> np.ndarray:
        return bytes_frame(table.read()).query(condition).index.to_numpy(dtype=np.int64)

    return {
        "iterrows": lambda: np.asarray(loop(table.iterrows()), dtype=np.int64),
        "where": lambda: np.asarray([row.nrow for row in table.where(condition)], dtype=np.int64),
        "read_where": lambda: table.read_where(condition),
        "indexed": lambda: np.asarray([row.nrow for row in indexed.where(condition)], dtype=np.int64),
        "pandas": pandas_query,
        "pandas_bytes": pandas_bytes_query,
        "numpy": lambda: np.flatnonzero(evaluate(query, data)),
    }


def bytes_frame(records: np.ndarray) -> pd.DataFrame:
    """The records as a DataFrame without turning names into Python strings.

    `pd.read_hdf` (and `pd.DataFrame(records)`) make one Python object per 16-byte name:
    at 10**7 rows that is most of the query's time. Here the names are one Arrow
    fixed-size binary column over a contiguous copy of their bytes (decoded only when a
    row is shown), and the numbers are views of the records (`copy=False`: no copy)."""
    columns: dict[str, object] = {}
    for name in records.dtype.names or ():
        column = records[name]
        if column.dtype.kind == "S":  # fixed-size bytes: as stored, trailing NULs included
            values = np.ascontiguousarray(column)
            size = column.dtype.itemsize
            arrow = pa.Array.from_buffers(pa.binary(size), len(values), [None, pa.py_buffer(values)])
            columns[name] = pd.arrays.ArrowExtensionArray(arrow)
        else:
            columns[name] = column
    return pd.DataFrame(columns, copy=False)


def matching_rows(results: dict[str, np.ndarray], table: tables.Table) -> np.ndarray:
    """The rows every method found; RuntimeError naming the methods if any two disagree."""
    reference_method, coordinates = next(iter(results.items()))
    expected = table.read_coordinates(coordinates)
    for method, found in results.items():
        if found.dtype.names is None:  # row numbers
            if not np.array_equal(found, coordinates):
                raise RuntimeError(
                    f"query methods disagree: {method} found rows {found[:10].tolist()}... "
                    f"({len(found)}), {reference_method} found {coordinates[:10].tolist()}... "
                    f"({len(coordinates)})"
                )
        elif found.dtype != expected.dtype or found.tobytes() != expected.tobytes():
            raise RuntimeError(
                f"query methods disagree: {method} returned {len(found)} rows, "
                f"{reference_method} found {len(expected)}"
            )
    return expected


# -- indexes ---------------------------------------------------------------------------


def drop_indexes(table: tables.Table) -> None:
    for column in table.colinstances.values():
        if column.is_indexed:
            column.remove_index()


def create_indexes(table: tables.Table, names: list[str]) -> None:
    """A completely sorted index (the best for queries) on each named column."""
    for name in names:
        table.cols._f_col(name).create_csindex()


def indexed_path(path: Path, scratch: Path) -> Path:
    """Where `indexed_copy` puts the indexed copy of the table at `path`."""
    return scratch / f"{path.stem}.indexed.h5"


@contextmanager
def indexed_copy(path: Path, scratch: Path, threads: int, keep: bool = False) -> Iterator[tables.File]:
    """A copy of the table file to index (the output table stays as the tutorial built it);
    deleted afterwards unless `keep` (the scratch directory goes at the job's end)."""
    copy = indexed_path(path, scratch)
    shutil.copyfile(path, copy)
    try:
        with open_table(copy, "a", threads, chunk_cache=True) as h5:
            yield h5
    finally:
        if not keep:
            copy.unlink(missing_ok=True)


# -- the result ------------------------------------------------------------------------


def query_frame(rows: np.ndarray) -> pd.DataFrame:
    """The matching rows as a table: name as text, pressure as the exact float64 of its float32."""
    return pd.DataFrame(
        {
            "name": np.char.decode(rows["name"], "ascii"),
            "idnumber": rows["idnumber"],
            "pressure": rows["pressure"].astype(np.float64),
            "energy": rows["energy"],
        },
        columns=QUERY_COLUMNS,
    )
