"""Ask a PyTables table for a large share of its rows: read the whole table at once
(`table.read()`, one structured array) and let NumPy keep the matching rows. `read_where`
makes a Python object per matching row first, slow once they are many. Needs the table
to fit in memory. Run: python pytables_read_mask.py [rows]"""

import sys

import tables

from particles import make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
with tables.open_file("particles.h5", "w") as h5:
    h5.create_table("/detector", "readout", obj=make_particles(n), createparents=True)

with tables.open_file("particles.h5") as h5:
    rows = h5.root.detector.readout.read()  # every row, every column
    found = rows[(rows["pressure"] >= 20) & (rows["pressure"] < 50)]
    print(f"{len(found):,} of {len(rows):,} rows match")
