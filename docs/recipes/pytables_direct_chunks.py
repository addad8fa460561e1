"""Store a table with PyTables' direct chunk API (PyTables >= 3.10, uncompressed table):
size the table with `truncate`, then hand HDF5 each chunk's bytes with `write_chunk`,
skipping HDF5's chunk cache. Run: python pytables_direct_chunks.py [rows]"""

import sys

import numpy as np
import tables

from particles import PARTICLE, make_particles

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
records = make_particles(n)

with tables.open_file("particles.h5", "w") as h5:
    table = h5.create_table("/detector", "readout", description=PARTICLE, createparents=True,
                            chunkshape=(2**16,))  # fmt: skip
    table.truncate(n)  # sets the size; writes no row
    chunk_rows = table.chunkshape[0]
    for start in range(0, n, chunk_rows):
        chunk = np.zeros(chunk_rows, dtype=PARTICLE)  # a whole chunk, the tail zero-padded
        part = records[start : start + chunk_rows]
        chunk[: len(part)] = part
        table.write_chunk((start,), chunk.view(np.uint8))
    print(f"{table.nrows:,} rows in particles.h5")
