"""The particle table in the formats people pick instead of PyTables, and their engines:
one module per format (`parquet`, `hdfstore`), each ending in one `TableFormat` entry
(`table_format`), listed by name in `registry.FORMATS`; `common` holds what they share.

The same records (same dtype and values) go to every format; the query tree is
translated for each engine by `outofcore.particles.engines`. A new format is one module
here, one line in `registry.FORMATS` (its file also in `outofcore.plan.table_formats`,
which the rules read; the registry refuses to load if the two disagree), and its name
in the config schema's `particles.formats` enum: see docs/extending.md.
"""

from outofcore.particles.formats.common import (
    ARROW_SCHEMA,
    COLUMNS,
    arrow_table,
    connect_duckdb,
    pandas_frame,
    same_rows,
    set_engine_threads,
    to_records,
)
from outofcore.particles.formats.hdfstore import HDFSTORE_KEY, write_hdfstore
from outofcore.particles.formats.parquet import UnsafeParquet, check_parquet, write_parquet
from outofcore.particles.formats.registry import FORMATS, engine_queries, get_format

__all__ = [
    "ARROW_SCHEMA",
    "COLUMNS",
    "FORMATS",
    "HDFSTORE_KEY",
    "UnsafeParquet",
    "arrow_table",
    "check_parquet",
    "connect_duckdb",
    "engine_queries",
    "get_format",
    "pandas_frame",
    "same_rows",
    "set_engine_threads",
    "to_records",
    "write_hdfstore",
    "write_parquet",
]
