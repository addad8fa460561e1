"""Query a PyTables table in-kernel: the condition runs in numexpr over each chunk, no
Python loop over rows. Run: python pytables_where.py [rows] (writes particles.h5 first)"""

import sys

import tables

from particles import PARTICLE, make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
with tables.open_file("particles.h5", "w") as h5:
    h5.create_table("/detector", "readout", obj=make_particles(n), createparents=True)

query = "(20 <= pressure) & (pressure < 50)"
with tables.open_file("particles.h5") as h5:
    table = h5.root.detector.readout
    found = table.read_where(query)  # the matching rows, as a NumPy structured array
    rows = [row.nrow for row in table.where(query)]  # or iterate: row numbers here
    print(f"{len(found):,} of {table.nrows:,} rows match {query}; first rows {rows[:3]}")
assert PARTICLE.names == found.dtype.names
