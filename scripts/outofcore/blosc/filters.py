"""blosc2 filter pipelines for the sweep's filter x codec matrix, and their round-trip checks.

A pipeline is written as filter names joined by `+`, applied left to right before the
codec: `shuffle` (bytes of equal significance together), `bitshuffle` (bits instead),
`bytedelta` (differences of the shuffled bytes; after a shuffle), `delta` (against the
block's first item), `trunc_prec:<bits>` (floats: keep `bits` mantissa bits, LOSSY, the
relative error of every value stays below 2**-bits), or `none`.

A pipeline of one filter without a parameter goes through `blosc2.compress`, exactly as
the sweep's other blosc2 rows; longer ones through `blosc2.compress2`, which builds a new
compression context on every call (a fixed cost per call that shows only at small sizes).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import blosc2
import numpy as np

from outofcore.safety.blosc_bytes import BLOSC2_CODECS, MAX_NBYTES

FILTERS = {
    "none": blosc2.Filter.NOFILTER,
    "shuffle": blosc2.Filter.SHUFFLE,
    "bitshuffle": blosc2.Filter.BITSHUFFLE,
    "bytedelta": blosc2.Filter.BYTEDELTA,
    "delta": blosc2.Filter.DELTA,
    "trunc_prec": blosc2.Filter.TRUNC_PREC,
}
DEFAULT = "shuffle"  # what every method of the sweep applies without a filters setting


@dataclass(frozen=True)
class Pipeline:
    """A parsed filter pipeline: blosc2 filters and their meta values, and its precision."""

    name: str
    filters: tuple[blosc2.Filter, ...]
    meta: tuple[int, ...]
    bits: int | None  # trunc_prec's mantissa bits kept; None: lossless

    @property
    def lossy(self) -> bool:
        return self.bits is not None

    def applies_to(self, dtype: np.dtype) -> bool:
        """trunc_prec truncates float mantissas only, and only below their width."""
        return self.bits is None or (dtype.kind == "f" and self.bits < np.finfo(dtype).nmant)


def parse(name: str) -> Pipeline:
    filters, meta, bits = [], [], None
    for part in name.split("+"):
        base, _, arg = part.partition(":")
        if base not in FILTERS or (arg and base != "trunc_prec") or (base == "trunc_prec" and not arg):
            raise ValueError(f"unknown filter {part!r} in {name!r} (known: {', '.join(FILTERS)})")
        if base == "none":
            continue
        filters.append(FILTERS[base])
        meta.append(int(arg) if arg else 0)
        bits = int(arg) if arg else bits
    return Pipeline(name, tuple(filters), tuple(meta), bits)


def compressor(pipeline: Pipeline, codec: str, clevel: int) -> Callable[[np.ndarray], bytes]:
    """The compress call of one (pipeline, codec); threads are the library's setting."""
    codec_id = BLOSC2_CODECS[codec]
    simple = len(pipeline.filters) <= 1 and not any(pipeline.meta)

    def run(array: np.ndarray) -> bytes:
        if array.nbytes > MAX_NBYTES:
            raise ValueError(f"array of {array.nbytes} bytes exceeds blosc's {MAX_NBYTES}-byte limit")
        flat = array.reshape(-1)
        if simple:
            only = pipeline.filters[0] if pipeline.filters else blosc2.Filter.NOFILTER
            return blosc2.compress(flat, typesize=array.itemsize, clevel=clevel, filter=only, codec=codec_id)
        return blosc2.compress2(
            flat,
            typesize=array.itemsize,
            clevel=clevel,
            codec=codec_id,
            filters=list(pipeline.filters),
            filters_meta=list(pipeline.meta),
            nthreads=blosc2.nthreads,
        )

    return run


def max_error(original: np.ndarray, restored: np.ndarray) -> float:
    """The largest absolute difference (0 for identical arrays, NaN and inf where equal)."""
    same = (
        (original == restored) | (np.isnan(original) & np.isnan(restored))
        if original.dtype.kind == "f"
        else None
    )
    if same is None:
        return float(np.abs(original.astype(np.float64) - restored.astype(np.float64)).max(initial=0.0))
    diff = np.abs(original[~same].astype(np.float64) - restored[~same].astype(np.float64))
    return float(diff.max(initial=0.0))


def within_bound(original: np.ndarray, restored: np.ndarray, bits: int) -> bool:
    """Every value within 2**-bits of itself (relative), non-finite values unchanged."""
    finite = np.isfinite(original)
    if not np.array_equal(original[~finite], restored[~finite], equal_nan=True):
        return False
    x, y = original[finite].astype(np.float64), restored[finite].astype(np.float64)
    return bool(np.all(np.abs(y - x) <= np.abs(x) * 2.0**-bits))


def same_bits(original: np.ndarray, restored: np.ndarray) -> bool:
    """Bitwise identity, what a lossless round trip owes (NaN payloads and -0.0 included).

    Compared as unsigned integers as wide as the items allow: `array_equal` with
    equal_nan on 800 MB of floats takes seconds, this a memory pass."""
    if original.dtype != restored.dtype or original.shape != restored.shape:
        return False
    unsigned = np.dtype(f"u{math.gcd(original.dtype.itemsize, 8)}")
    flat = [np.ascontiguousarray(a).reshape(-1).view(unsigned) for a in (original, restored)]
    return bool(np.array_equal(*flat))
