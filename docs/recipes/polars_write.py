"""Store a table as Parquet with Polars. Its default codec is zstd; its docs advise lz4 or
snappy for speed. Run: python polars_write.py [rows]"""

import sys

import polars as pl
import pyarrow.parquet as pq

from particles import make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
records = make_particles(n)
frame = pl.DataFrame({name: records[name] for name in records.dtype.names})

# row groups of 64k rows: their min/max statistics let readers skip most of a sorted file
frame.write_parquet("particles.parquet", compression="snappy", row_group_size=65536)
print(pq.ParquetFile("particles.parquet").metadata)
