"""Query a Parquet file with DuckDB (SQL, or its relational API); row-group statistics
skip what cannot match. Run: python duckdb_parquet_query.py [rows]"""

import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from particles import make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
records = make_particles(n)
pq.write_table(pa.table({k: records[k] for k in records.dtype.names}), "particles.parquet",
               row_group_size=65536, use_dictionary=False)  # fmt: skip

with duckdb.connect() as con:
    found = con.sql(
        "SELECT * FROM read_parquet('particles.parquet') WHERE 20 <= pressure AND pressure < 50"
    ).to_arrow_table()
print(f"{found.num_rows:,} of {n:,} rows match")
