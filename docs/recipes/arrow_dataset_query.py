"""Query a Parquet file with `pyarrow.dataset`: a filter pushed down to the row groups.
Run: python arrow_dataset_query.py [rows]"""

import sys

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from particles import make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
records = make_particles(n)
pq.write_table(pa.table({k: records[k] for k in records.dtype.names}), "particles.parquet",
               row_group_size=65536, use_dictionary=False)  # fmt: skip

dataset = ds.dataset("particles.parquet", format="parquet")
pressure = ds.field("pressure")
found = dataset.to_table(filter=(pressure >= 20) & (pressure < 50))
print(f"{found.num_rows:,} of {n:,} rows match")
