"""Compress an array in memory with python-blosc2 (the maintained blosc package), no
pickle: codec, filter, level and threads as the decision names them.
Run: python blosc2_compress.py [elements] [codec] [filter]"""

import sys

import blosc2
import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
codec = blosc2.Codec[(sys.argv[2] if len(sys.argv) > 2 else "lz4").upper()]
filters = [blosc2.Filter[f.upper()] for f in (sys.argv[3] if len(sys.argv) > 3 else "shuffle").split("+")]
array = np.linspace(0, 100, n)  # your array

cparams = {"codec": codec, "clevel": 5, "filters": filters, "typesize": array.itemsize,
           "nthreads": blosc2.nthreads}  # fmt: skip
packed = blosc2.compress2(array, **cparams)  # bytes: store or send them
back = np.empty_like(array)
blosc2.decompress2(packed, dst=back)  # straight into an array of yours (dtype, shape kept apart)
assert np.array_equal(array, back)
print(f"{array.nbytes:,} -> {len(packed):,} bytes, ratio {array.nbytes / len(packed):.3g}")
