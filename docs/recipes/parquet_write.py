"""Store a table as Parquet with pyarrow (read by DuckDB, Polars, Arrow, Spark...).
Unique strings gain nothing from dictionary encoding, nor a column no query filters on from
min/max statistics. Run: python parquet_write.py [rows]"""

import sys

import pyarrow as pa
import pyarrow.parquet as pq

from particles import make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
records = make_particles(n)
table = pa.table({name: records[name] for name in records.dtype.names})

# row groups of 64k rows, each with min/max statistics of the filtered columns that let
# readers skip it
pq.write_table(table, "particles.parquet", row_group_size=65536, compression="snappy",
               use_dictionary=False, write_statistics=["idnumber", "pressure", "energy"])  # fmt: skip
print(pq.ParquetFile("particles.parquet").metadata)
