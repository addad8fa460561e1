"""Compress an array in memory with python-blosc 1's `compress_ptr` (legacy: the blosc
project maintains python-blosc2 now, see blosc2_compress.py), no pickle.
Run: python blosc_compress_ptr.py [elements] [codec]"""

import sys

import blosc
import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
codec = sys.argv[2] if len(sys.argv) > 2 else "lz4"
array = np.linspace(0, 100, n)  # your array, C-contiguous

blosc.set_nthreads(blosc.detect_number_of_cores())
packed = blosc.compress_ptr(array.__array_interface__["data"][0], array.size, typesize=array.itemsize,
                            clevel=5, shuffle=blosc.SHUFFLE, cname=codec)  # fmt: skip
back = np.empty_like(array)  # dtype and shape travel beside the bytes, never pickled
blosc.decompress_ptr(packed, back.__array_interface__["data"][0])
assert np.array_equal(array, back)
print(f"{array.nbytes:,} -> {len(packed):,} bytes, ratio {array.nbytes / len(packed):.3g}")
