"""An array larger than memory in HDF5 with h5py: written block by block into a chunked,
blosc2-compressed dataset (hdf5plugin), reduced block by block: memory holds one block.
Run: python hugearray_h5py.py [MiB]"""

import sys

import h5py
import hdf5plugin
import numpy as np

mib = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
columns, block_rows = 8, 2**20  # 64 MiB blocks of 8 float64 columns
rows = mib * 2**20 // (8 * columns)
rng = np.random.default_rng(42)

with h5py.File("huge.h5", "w") as h5:
    blosc2_lz4 = hdf5plugin.Blosc2(cname="lz4", clevel=5, filters=hdf5plugin.Blosc2.SHUFFLE)
    data = h5.create_dataset("data", shape=(rows, columns), dtype="f8", chunks=(min(2**16, rows), columns),
                             **blosc2_lz4)  # fmt: skip
    for start in range(0, rows, block_rows):
        stop = min(start + block_rows, rows)
        data[start:stop] = rng.integers(-(2**15), 2**15, (stop - start, columns))  # your blocks

with h5py.File("huge.h5", "r") as h5:
    data = h5["data"]
    total = sum(data[s : s + block_rows].sum(axis=0) for s in range(0, rows, block_rows))
print("column means:", total / rows)
