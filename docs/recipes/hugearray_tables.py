"""An array larger than memory in HDF5 with PyTables: an EArray with blosc2 compression,
appended block by block, reduced block by block. Run: python hugearray_tables.py [MiB]"""

import sys

import numpy as np
import tables

mib = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
columns, block_rows = 8, 2**20
rows = mib * 2**20 // (8 * columns)
rng = np.random.default_rng(42)
filters = tables.Filters(complevel=5, complib="blosc2:lz4", shuffle=True)

with tables.open_file("huge_tables.h5", "w") as h5:
    data = h5.create_earray("/", "data", tables.Float64Atom(), shape=(0, columns), filters=filters,
                            chunkshape=(min(2**16, rows), columns), expectedrows=rows)  # fmt: skip
    for start in range(0, rows, block_rows):
        data.append(rng.integers(-(2**15), 2**15, (min(block_rows, rows - start), columns)).astype("f8"))

with tables.open_file("huge_tables.h5") as h5:
    data = h5.root.data
    total = sum(data[s : s + block_rows].sum(axis=0) for s in range(0, rows, block_rows))
print("column means:", total / rows)
