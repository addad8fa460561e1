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
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from outofcore.particles.engines import to_arrow, to_duckdb, to_polars
from outofcore.particles.formats.common import ARROW_SCHEMA, arrow_table, connect_duckdb
from outofcore.particles.formats.table_format import Engine, TableFormat, WriteOptions, Writer
from outofcore.plan.query import Query


class UnsafeParquet(ValueError):
    """The Parquet file is not the particle table this stage writes."""


# the columns a query filters on: their min/max per row group lets a reader skip it
FILTERED = ["idnumber", "pressure", "energy"]


def write_parquet(
    path: str | Path,
    records: np.ndarray,
    compression: str,
    row_group_rows: int,
    dictionary: bool = True,
    statistics: bool | list[str] = True,
) -> None:
    """Parquet with statistics per row group (min/max: what lets a reader skip groups) on
    every column or on `statistics`; `dictionary`: dictionary encoding of every column
    (pyarrow's default)."""
    pq.write_table(
        arrow_table(records),
        path,
        compression=compression,
        row_group_size=row_group_rows,
        use_dictionary=dictionary,
        write_statistics=statistics,
    )


def check_parquet(path: str | Path) -> None:
    """Refuse a Parquet file that is not a plain particle table: other columns or types,
    or Arrow extension types (whose deserializers are code). Reads the footer only."""
    schema = pq.read_schema(path)
    if "name" in schema.names and schema.field("name").type == pa.large_string():  # as Polars writes
        schema = schema.set(schema.get_field_index("name"), schema.field("name").with_type(pa.string()))
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


# -- the writers: pyarrow, Polars, DuckDB, each as shipped and as its docs advise --------

CODECS = {"none": "uncompressed"}  # particles.parquet_compression -> Polars' and DuckDB's name


def pyarrow_default(path: Path, records: np.ndarray, options: WriteOptions) -> None:
    pq.write_table(arrow_table(records), path)


def pyarrow_tuned(path: Path, records: np.ndarray, options: WriteOptions) -> None:
    write_parquet(path, records, options.parquet_compression, options.parquet_row_group_rows,
                  dictionary=False, statistics=FILTERED)  # fmt: skip


def polars_default(path: Path, records: np.ndarray, options: WriteOptions) -> None:
    import polars as pl

    pl.from_arrow(arrow_table(records)).write_parquet(path)


def polars_tuned(path: Path, records: np.ndarray, options: WriteOptions) -> None:
    import polars as pl

    codec = CODECS.get(options.parquet_compression, options.parquet_compression)
    frame = pl.from_arrow(arrow_table(records))
    frame.write_parquet(path, compression=codec, row_group_size=options.parquet_row_group_rows)


def duckdb_copy(path: Path, records: np.ndarray, settings: str) -> None:
    """`COPY particles TO path (FORMAT parquet{settings})`, the records as an Arrow table
    DuckDB scans in place, on the engines' thread count (set_engine_threads)."""
    import duckdb

    with duckdb.connect(config={"threads": pa.cpu_count()}) as duck:
        duck.register("particles", arrow_table(records))
        quoted = str(path).replace("'", "''")
        duck.execute(f"COPY particles TO '{quoted}' (FORMAT parquet{settings})")


def duckdb_default(path: Path, records: np.ndarray, options: WriteOptions) -> None:
    duckdb_copy(path, records, "")


def duckdb_tuned(path: Path, records: np.ndarray, options: WriteOptions) -> None:
    codec = CODECS.get(options.parquet_compression, options.parquet_compression)
    rows = options.parquet_row_group_rows
    duckdb_copy(path, records, f", COMPRESSION {codec}, ROW_GROUP_SIZE {rows}, DICTIONARY_SIZE_LIMIT 1")


FORMAT = TableFormat(
    name="parquet",
    file="table.parquet",
    title="Parquet",
    writers=(  # the first writes table.parquet, the file the engines query
        Writer(
            "parquet_write",
            "tuned",
            "Parquet (pyarrow, tuned)",
            pyarrow_tuned,
            "pq.write_table(table, path, compression=C, row_group_size=R, use_dictionary=False, "
            "write_statistics=['idnumber', 'pressure', 'energy'])",
        ),
        Writer(
            "parquet_write",
            "default",
            "Parquet (pyarrow, default)",
            pyarrow_default,
            "pq.write_table(table, path)",
        ),
        Writer(
            "polars_write",
            "tuned",
            "Parquet (Polars, tuned)",
            polars_tuned,
            "df.write_parquet(path, compression=C, row_group_size=R)",
        ),
        Writer(
            "polars_write", "default", "Parquet (Polars, default)", polars_default, "df.write_parquet(path)"
        ),
        Writer(
            "duckdb_write",
            "tuned",
            "Parquet (DuckDB COPY, tuned)",
            duckdb_tuned,
            "COPY t TO 'path' (FORMAT parquet, COMPRESSION C, ROW_GROUP_SIZE R, DICTIONARY_SIZE_LIMIT 1)",
        ),
        Writer(
            "duckdb_write",
            "default",
            "Parquet (DuckDB COPY, default)",
            duckdb_default,
            "COPY t TO 'path' (FORMAT parquet)",
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
