"""Query a Parquet file with Polars: a lazy scan reads only the row groups whose
statistics may match. Run: python polars_parquet_query.py [rows]"""

import sys

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from particles import make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
records = make_particles(n)
pq.write_table(pa.table({k: records[k] for k in records.dtype.names}), "particles.parquet",
               row_group_size=65536, use_dictionary=False)  # fmt: skip

found = (
    pl.scan_parquet("particles.parquet")
    .filter((pl.col("pressure") >= 20) & (pl.col("pressure") < 50))
    .collect()
)
print(f"{found.height:,} of {n:,} rows match")
