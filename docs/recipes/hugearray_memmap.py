"""An array larger than memory as a raw `.npy` file through `numpy.memmap`: written and
reduced block by block (the page cache holds what memory allows). Uncompressed.
Run: python hugearray_memmap.py [MiB]"""

import sys

import numpy as np

mib = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
columns, block_rows = 8, 2**20
rows = mib * 2**20 // (8 * columns)
rng = np.random.default_rng(42)

data = np.lib.format.open_memmap("huge.npy", mode="w+", dtype="f8", shape=(rows, columns))
for start in range(0, rows, block_rows):
    stop = min(start + block_rows, rows)
    data[start:stop] = rng.integers(-(2**15), 2**15, (stop - start, columns))
data.flush()
del data

data = np.load("huge.npy", mmap_mode="r")
total = sum(data[s : s + block_rows].sum(axis=0) for s in range(0, rows, block_rows))
print("column means:", total / rows)
