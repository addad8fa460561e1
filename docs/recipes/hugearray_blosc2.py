"""An array larger than memory as a blosc2 NDArray on disk (`.b2nd`), written and reduced
block by block. Run: python hugearray_blosc2.py [MiB]"""

import sys

import blosc2
import numpy as np

mib = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
columns, block_rows = 8, 2**20
rows = mib * 2**20 // (8 * columns)
rng = np.random.default_rng(42)

data = blosc2.empty((rows, columns), dtype="f8", chunks=(min(2**16, rows), columns), urlpath="huge.b2nd",
                    mode="w", cparams={"codec": blosc2.Codec.LZ4, "clevel": 5})  # fmt: skip
for start in range(0, rows, block_rows):
    stop = min(start + block_rows, rows)
    data[start:stop] = rng.integers(-(2**15), 2**15, (stop - start, columns)).astype("f8")

data = blosc2.open("huge.b2nd", mode="r")
total = sum(data[s : s + block_rows].sum(axis=0) for s in range(0, rows, block_rows))
print("column means:", total / rows)
