"""Reduce an array larger than memory with Dask: chunks of ~100 MB over an HDF5 dataset,
the graph run by the threaded scheduler. Run: python hugearray_dask.py [MiB]"""

import sys

import dask.array as da
import h5py
import numpy as np

mib = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
columns = 8
rows = mib * 2**20 // (8 * columns)
with h5py.File("huge_dask.h5", "w") as h5:  # any chunked store: HDF5, Zarr (da.from_zarr), ...
    data = h5.create_dataset("data", shape=(rows, columns), dtype="f8", chunks=(min(2**16, rows), columns))
    for start in range(0, rows, 2**20):
        data[start : start + 2**20] = np.random.default_rng(start).integers(
            0, 100, (min(2**20, rows - start), columns)
        )

with h5py.File("huge_dask.h5", "r") as h5:
    array = da.from_array(h5["data"], chunks=(2**21, columns))  # 128 MiB per task
    means = array.mean(axis=0).compute(scheduler="threads")
print("column means:", means)
