"""Parquet: the particle records written with pyarrow, read by DuckDB's relational API,
Polars' `scan_parquet` and `pyarrow.dataset`.

Untrusted files: a Parquet file is checked against the expected schema and only ever
read by the engines, never into pandas objects (its pandas metadata, if any, is JSON
and is ignored).
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from outofcore.particles.engines import to_arrow, to_duckdb, to_polars
from outofcore.particles.formats.common import ARROW_SCHEMA, arrow_table, connect_duckdb
from outofcore.particles.formats.table_format import Engine, TableFormat, WriteOptions, Writer
from outofcore.plan.query import Query


class UnsafeParquet(ValueError):
    """The Parquet file is not the particle table this stage writes."""


def write_parquet(path: str | Path, records: np.ndarray, compression: str, row_group_rows: int) -> None:
    """Parquet with statistics per row group (min/max: what lets a reader skip groups)."""
    pq.write_table(
        arrow_table(records),
        path,
        compression=compression,
        row_group_size=row_group_rows,
        write_statistics=True,
    )


def check_parquet(path: str | Path) -> None:
    """Refuse a Parquet file that is not a plain particle table: other columns or types,
    or Arrow extension types (whose deserializers are code). Reads the footer only."""
    schema = pq.read_schema(path)
    if not schema.remove_metadata().equals(ARROW_SCHEMA):
        raise UnsafeParquet(f"{path}: schema {schema.remove_metadata()} is not the particle table's")
    for field in schema:
        if field.metadata and any(key.startswith(b"ARROW:extension") for key in field.metadata):
            raise UnsafeParquet(f"{path}: column {field.name} carries an Arrow extension type")


def queries(path: Path, query: Query, threads: int) -> dict[str, Callable[[], Any]]:
    import polars as pl

    check_parquet(path)
    duck, duck_filter = connect_duckdb(threads), to_duckdb(query)
    polars_filter, arrow_filter = to_polars(query), to_arrow(query)
    return {
        "duckdb": lambda: duck.read_parquet(str(path)).filter(duck_filter).to_arrow_table(),
        "polars": lambda: pl.scan_parquet(path).filter(polars_filter).collect(),
        "arrow": lambda: ds.dataset(path, format="parquet").to_table(filter=arrow_filter),
    }


def _write_configured(path: Path, records: np.ndarray, options: WriteOptions) -> None:
    write_parquet(path, records, options.parquet_compression, options.parquet_row_group_rows)


FORMAT = TableFormat(
    name="parquet",
    file="table.parquet",
    title="Parquet",
    writers=(
        Writer(
            "parquet_write",
            "default",
            "Parquet (pyarrow)",
            _write_configured,
            "pq.write_table(table, path, compression=..., row_group_size=...)",
        ),
    ),
    engines=(
        Engine("duckdb", "DuckDB", "DuckDB (Parquet)", "DuckDB on Parquet", "DuckDB query"),
        Engine("polars", "Polars", "Polars scan_parquet", "Polars on Parquet", "Polars scan_parquet query"),
        Engine(
            "arrow",
            "pyarrow.dataset",
            "pyarrow.dataset (Parquet)",
            "pyarrow.dataset on Parquet",
            "pyarrow.dataset query",
        ),
    ),
    queries=queries,
)
