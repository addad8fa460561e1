"""Store a table as Parquet with DuckDB's COPY. Unique strings gain nothing from a
dictionary: DICTIONARY_SIZE_LIMIT 1 skips the attempt. Run: python duckdb_write.py [rows]"""

import sys

import duckdb
import pyarrow as pa

from particles import make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
records = make_particles(n)
particles = pa.table({name: records[name] for name in records.dtype.names})  # scanned in place

duckdb.sql(
    "COPY particles TO 'particles.parquet' "
    "(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 65536, DICTIONARY_SIZE_LIMIT 1)"
)
print(duckdb.sql("SELECT count(DISTINCT row_group_id) AS groups FROM parquet_metadata('particles.parquet')"))
