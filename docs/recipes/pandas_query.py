"""Query a PyTables table with pandas: read the table whole, then `DataFrame.query`
(the whole table in memory: for tables that fit). Run: python pandas_query.py [rows]"""

import sys

import pandas as pd
import tables

from particles import make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
with tables.open_file("particles.h5", "w") as h5:
    h5.create_table("/detector", "readout", obj=make_particles(n), createparents=True)

with tables.open_file("particles.h5") as h5:
    records = h5.root.detector.readout.read()  # one read; numbers become views
frame = pd.DataFrame({name: records[name] for name in records.dtype.names})
found = frame.query("(20 <= pressure) & (pressure < 50)")
print(f"{len(found):,} of {n:,} rows match")
