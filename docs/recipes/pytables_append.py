"""Store a table with PyTables: `table.append` in blocks of rows (not one `row.append()`
per row, the tutorial's loop). Run: python pytables_append.py [rows]"""

import sys

import tables

from particles import PARTICLE, make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
records = make_particles(n)  # your NumPy structured array
BLOCK = 2**20  # rows per append: a few tens of MB at a time

with tables.open_file("particles.h5", "w") as h5:
    table = h5.create_table("/detector", "readout", description=PARTICLE, createparents=True,
                            expectedrows=n)  # expectedrows sets a good chunk size  # fmt: skip
    for start in range(0, n, BLOCK):
        table.append(records[start : start + BLOCK])  # same dtype as the table: no conversion
    table.flush()
    print(f"{table.nrows:,} rows in particles.h5")
