"""An array larger than memory in Zarr (v3, blosc compression, shards of whole blocks so
a block is one file), written and reduced block by block. Run: python hugearray_zarr.py [MiB]"""

import sys

import numpy as np
import zarr

mib = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
columns, block_rows = 8, 2**20
rows = mib * 2**20 // (8 * columns)
rng = np.random.default_rng(42)

data = zarr.create_array("huge.zarr", shape=(rows, columns), dtype="f8", chunks=(min(2**16, rows), columns),
                         shards=(min(block_rows, rows), columns), overwrite=True)  # fmt: skip
for start in range(0, rows, block_rows):
    stop = min(start + block_rows, rows)
    data[start:stop] = rng.integers(-(2**15), 2**15, (stop - start, columns))

data = zarr.open_array("huge.zarr", mode="r")
total = sum(data[s : s + block_rows].sum(axis=0) for s in range(0, rows, block_rows))
print("column means:", total / rows)
