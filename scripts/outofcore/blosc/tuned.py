"""python-blosc2 as its documentation advises for arrays in memory (the `compress2` and
`pack_tensor` methods of the blosc sweep, setting `tuned`; docs/tuning.md).

`blosc2.compress` (the `blosc2` method, setting `default`) is the call a newcomer types,
python-blosc's API carried over: the library's global threads, its own block size. Here
the parameters of the array go in a `CParams` of their own, with `compress2` /
`decompress2`: the item size as the type size (so the shuffle moves whole float64s), the
threads of the call, and blocks the size of the core's L2 cache (blosc splits the array
into blocks that each thread compresses in cache). The bytes are an ordinary c-blosc2
chunk: `safe_blosc` checks them before decompressing, as for the other methods.

`pack_tensor` / `unpack_tensor` is python-blosc2's own counterpart of python-blosc's
`pack_array` (the tutorial's call): its release notes name them "the new recommended ones
for serialization" of NumPy arrays. No pickle: the array's kind, shape and dtype are a
msgpack variable-length metalayer of a contiguous frame; the call allocates the unpacked
array, as `unpack_array` does.
"""

import os
from collections.abc import Callable
from pathlib import Path

import blosc2
import numpy as np

from outofcore.blosc.filters import Pipeline
from outofcore.safety.blosc_bytes import BLOSC2_CODECS, MAX_NBYTES, check_buffer

FALLBACK_L2 = 256 * 1024  # where the OS does not say (a common L2 size per core)


def l2_cache_bytes(sysfs: Path = Path("/sys/devices/system/cpu/cpu0/cache/index2/size")) -> int:
    """The L2 cache of one core as the OS reports it (FALLBACK_L2 where it does not)."""
    try:
        size = os.sysconf("SC_LEVEL2_CACHE_SIZE")
    except (ValueError, OSError, AttributeError):
        size = 0
    if size <= 0:  # Linux in a VM often leaves it out; sysfs says e.g. "512K"
        try:
            text = sysfs.read_text().strip()
            size = int(text.rstrip("KkMm")) * (1024 if text[-1] in "Kk" else 2**20 if text[-1] in "Mm" else 1)
        except (OSError, ValueError, IndexError):
            size = 0
    return size if size > 0 else FALLBACK_L2


BLOCK_BYTES = l2_cache_bytes()


def cparams(pipeline: Pipeline, codec: str, clevel: int, itemsize: int, threads: int) -> blosc2.CParams:
    return blosc2.CParams(
        codec=BLOSC2_CODECS[codec],
        clevel=clevel,
        filters=list(pipeline.filters) or [blosc2.Filter.NOFILTER],
        filters_meta=list(pipeline.meta) or [0],
        typesize=itemsize,
        nthreads=threads,
        blocksize=BLOCK_BYTES,
    )


def compressor(pipeline: Pipeline, codec: str, clevel: int) -> Callable[[np.ndarray], bytes]:
    """`compress2` of one (pipeline, codec); threads: the library's current setting, set
    in the call's own parameters."""

    def run(array: np.ndarray) -> bytes:
        if array.nbytes > MAX_NBYTES:
            raise ValueError(f"array of {array.nbytes} bytes exceeds blosc's {MAX_NBYTES}-byte limit")
        params = cparams(pipeline, codec, clevel, array.itemsize, blosc2.nthreads)
        return blosc2.compress2(array.reshape(-1), cparams=params)

    return run


def decompress_into(payload: bytes, out: np.ndarray) -> np.ndarray:
    """`decompress2` into the preallocated `out`, once the buffer's header says it fills
    exactly `out` (`safe_blosc.check_buffer`)."""
    view = check_buffer(payload, "blosc2", out.nbytes)
    blosc2.decompress2(view, dst=out, nthreads=blosc2.nthreads)
    return out


def pack_tensor(array: np.ndarray, codec: str, clevel: int) -> bytes:
    """`blosc2.pack_tensor` with the configured codec and level, byte shuffle over the
    array's items and the library's current threads (a frame of `array.nbytes` bytes)."""
    params = blosc2.CParams(
        codec=BLOSC2_CODECS[codec],
        clevel=clevel,
        filters=[blosc2.Filter.SHUFFLE],
        typesize=array.itemsize,
        nthreads=blosc2.nthreads,
    )
    return blosc2.pack_tensor(array, cparams=params)


def unpack_tensor(frame: bytes) -> np.ndarray:
    """`blosc2.unpack_tensor`: a new array (our own bytes only: nothing here checks a frame
    from elsewhere, as `safe_blosc` checks a chunk)."""
    return blosc2.unpack_tensor(frame)
