"""Compressed arrays as bytes without pickle: a JSON header plus a raw blosc buffer.

`blosc.pack_array`/`unpack_array` pickle the array: unpacking bytes that came from
anywhere else can run arbitrary code. Here the array's dtype and shape travel in a small
JSON header and the payload is only ever decompressed, as raw numbers, into an array the
reader allocated from that header. Nothing in the bytes is executed or imported.

The blosc buffers are checked before decompressing into memory: `decompress_ptr` and
blosc2's `decompress(dst=...)` trust the caller to pass a large enough destination and
write past its end otherwise, so the size the buffer announces must equal the size the
header describes.

Two formats, the two pickle-free ways the blosc sweep measures:
- "blosc1": python-blosc's `compress_ptr` / `decompress_ptr` (c-blosc 1 frames);
- "blosc2": python-blosc2's `compress` / `decompress(dst=...)` (c-blosc2 chunks).
"""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import blosc
import blosc2
import numpy as np
from blosc.blosc_extension import error as BloscError

FORMATS = ("blosc1", "blosc2")
CODECS = ("blosclz", "lz4", "lz4hc", "zlib", "zstd")  # compiled into both libraries
BLOSC2_CODECS = {name: getattr(blosc2.Codec, name.upper()) for name in CODECS}
# Largest buffer either library compresses in one call (c-blosc2's limit is the lower).
MAX_NBYTES = min(blosc.MAX_BUFFERSIZE, blosc2.MAX_BUFFERSIZE)
MIN_BUFFER = 16  # a blosc header; shorter input would make the size query read past it
# Plain numbers only: bool, ints, floats, complex, in an explicit byte order. No object,
# string or structured dtypes (the only dtypes whose bytes could mean more than numbers).
DTYPE_PATTERN = re.compile(r"[<>|][biufc][0-9]{1,2}")
MAX_NDIM = 32  # numpy's own limit


class UnsafeData(ValueError):
    """Bytes that do not describe exactly the array the header announces."""


@contextmanager
def blosc_threads(threads: int) -> Iterator[None]:
    """Both libraries use `threads` threads inside the block; the old counts come back after."""
    old1, old2 = blosc.set_nthreads(threads), blosc2.set_nthreads(threads)
    try:
        yield
    finally:
        blosc.set_nthreads(old1)
        blosc2.set_nthreads(old2)


def compress(array: np.ndarray, fmt: str, codec: str, clevel: int) -> bytes:
    """The C-contiguous `array`'s bytes compressed (byte shuffle on), no header.

    The threads are the libraries' current setting (see `blosc_threads`).
    """
    if not array.flags.c_contiguous:
        raise ValueError("array must be C-contiguous (use np.ascontiguousarray)")
    if array.nbytes > MAX_NBYTES:
        raise ValueError(f"array of {array.nbytes} bytes exceeds blosc's {MAX_NBYTES}-byte limit")
    if fmt == "blosc1":
        return blosc.compress_ptr(array.ctypes.data, array.size, array.itemsize, clevel, blosc.SHUFFLE, codec)
    if fmt == "blosc2":
        # The global-context call (threads from `blosc_threads`): `compress2` builds a new
        # context, thread pool included, on every call, which costs 3x at small sizes.
        # A flat view, because blosc2 sizes its input with len(): an n-d array's first axis.
        return blosc2.compress(
            array.reshape(-1),
            typesize=array.itemsize,
            clevel=clevel,
            filter=blosc2.Filter.SHUFFLE,
            codec=BLOSC2_CODECS[codec],
        )
    raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")


def check_buffer(payload: Any, fmt: str, nbytes: int) -> memoryview:
    """`payload` as bytes, once its blosc header says it decompresses to exactly `nbytes`."""
    if fmt not in FORMATS:
        raise UnsafeData(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    try:
        view = memoryview(payload).cast("B")
    except TypeError as error:
        raise UnsafeData(f"payload is not a bytes-like object: {type(payload).__name__}") from error
    if len(view) < MIN_BUFFER:
        raise UnsafeData(f"payload of {len(view)} bytes is shorter than a blosc header")
    # Byte 0 is the format version: c-blosc 1 writes 1-2, c-blosc2 writes 3 and up.
    version = view[0]
    if (fmt == "blosc1") != (1 <= version <= 2):
        raise UnsafeData(f"payload is not a {fmt} buffer (format version {version})")
    announced, cbytes, _ = blosc2.get_cbuffer_sizes(view)
    if cbytes != len(view):
        raise UnsafeData(f"payload is {len(view)} bytes but its blosc header says {cbytes}")
    if announced != nbytes:
        raise UnsafeData(f"payload decompresses to {announced} bytes, the header's array is {nbytes}")
    return view


def decompress_into(payload: Any, fmt: str, out: np.ndarray) -> np.ndarray:
    """Decompress `payload` into the preallocated C-contiguous `out` (sizes checked first)."""
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise ValueError("out must be a writeable C-contiguous array")
    view = check_buffer(payload, fmt, out.nbytes)
    try:
        if fmt == "blosc1":
            written = blosc.decompress_ptr(view, out.ctypes.data)
            if written != out.nbytes:
                raise UnsafeData(f"decompressed {written} bytes, expected {out.nbytes}")
        else:
            blosc2.decompress(view, dst=out)
    except (BloscError, RuntimeError) as error:  # corrupt blocks behind a valid header
        raise UnsafeData(f"payload is corrupt: {error}") from error
    return out


def make_header(fmt: str, dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    return json.dumps({"format": fmt, "dtype": dtype.str, "shape": list(shape)}).encode()


def read_header(header: bytes | str) -> tuple[str, np.dtype, tuple[int, ...]]:
    """(format, dtype, shape) of a header written by `make_header`, strictly validated."""
    try:
        meta = json.loads(header)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UnsafeData(f"header is not JSON: {error}") from error
    if not isinstance(meta, dict) or set(meta) != {"format", "dtype", "shape"}:
        raise UnsafeData("header must be a JSON object with exactly: format, dtype, shape")
    fmt, dtype, shape = meta["format"], meta["dtype"], meta["shape"]
    if fmt not in FORMATS:
        raise UnsafeData(f"header format {fmt!r} is not one of {', '.join(FORMATS)}")
    if not isinstance(dtype, str) or not DTYPE_PATTERN.fullmatch(dtype):
        raise UnsafeData(f"header dtype {dtype!r} is not a plain numeric dtype like '<f8'")
    if not (
        isinstance(shape, list)
        and len(shape) <= MAX_NDIM
        and all(type(d) is int and d >= 0 for d in shape)  # bool is an int: exclude it
    ):
        raise UnsafeData(f"header shape {shape!r} is not a list of non-negative ints")
    try:
        parsed = np.dtype(dtype)
    except TypeError as error:
        raise UnsafeData(f"header dtype {dtype!r}: {error}") from error
    if parsed.str != dtype:  # e.g. '<f3' parses to something else, or not at all
        raise UnsafeData(f"header dtype {dtype!r} is not a dtype numpy writes that way")
    if int(np.prod(shape, dtype=object)) * parsed.itemsize > MAX_NBYTES:
        raise UnsafeData(f"header shape {shape} is larger than one blosc buffer")
    return fmt, parsed, tuple(shape)


def pack_safe(
    array: np.ndarray, codec: str = "lz4", clevel: int = 5, fmt: str = "blosc1"
) -> tuple[bytes, bytes]:
    """(header, payload): the array compressed, with its dtype and shape beside it, no pickle."""
    array = np.asarray(array, order="C")  # a C-contiguous copy only if needed; 0-d stays 0-d
    if not DTYPE_PATTERN.fullmatch(array.dtype.str):
        raise ValueError(f"only plain numeric arrays can be packed, not dtype {array.dtype}")
    return make_header(fmt, array.dtype, array.shape), compress(array, fmt, codec, clevel)


def unpack_safe(header: bytes | str, payload: Any, out: np.ndarray | None = None) -> np.ndarray:
    """The array `pack_safe` packed; `out` (same dtype and shape) is filled if given.

    Raises UnsafeData when the header is not a valid description of a plain numeric array
    or the payload is not a blosc buffer of exactly that many bytes. Never unpickles.
    """
    fmt, dtype, shape = read_header(header)
    if out is None:
        out = np.empty(shape, dtype=dtype)
    elif out.dtype != dtype or out.shape != shape:
        raise ValueError(f"out is {out.dtype}{out.shape}, the header says {dtype}{shape}")
    return decompress_into(payload, fmt, out)
