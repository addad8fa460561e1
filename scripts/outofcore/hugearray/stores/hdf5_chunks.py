"""What the two HDF5 backends (PyTables, h5py) share: the node name, the compression
level and the direct chunk path.

With a blosc2 codec and direct chunks, the HDF5 backends compress each chunk with
python-blosc2 (all threads) and write/read it with the libraries' direct chunk calls;
the file is the one the HDF5 Blosc2 filter writes (a b2nd frame per chunk), so any
reader with the filter opens it. Otherwise the HDF5 filter pipeline does the work, one
chunk at a time on one thread.
"""

import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import blosc2
import numpy as np

from outofcore.hugearray.stores.layout import Layout, StoreSpec, power_of_two_at_most, split_compression
from outofcore.hugearray.stores.reading import PieceReader

CLEVEL = 5  # compression level of every codec
DATASET = "array"  # node name in the HDF5 files
B2ND_BLOCK_BYTES = 256 * 1024  # a blosc2 block inside a chunk: fits the L2 cache


def written_shape(spec: StoreSpec) -> dict[str, tuple[int, int]]:
    """The array's node and the shape the writer made it, for the layout check
    (`outofcore.safety.hdf5`): that size is what the job asked for, however well it compressed."""
    return {f"/{DATASET}": (spec.layout.rows, spec.layout.columns)}


class ChunkCodec:
    """One HDF5 chunk <-> the bytes the HDF5 Blosc2 filter stores for it.

    The filter stores a chunk as a blosc2 frame holding a b2nd array of the chunk's
    shape. Here python-blosc2 builds that frame itself (`threads` threads per chunk),
    with blosc2 blocks spanning whole rows: the chunk's bytes in block order are then
    its bytes in row order, and decompressing needs no reordering.

    Compressing and decompressing release the GIL (`blosc2.set_releasegil`), so several
    Python threads each working on its own chunk run in parallel: `b2nd` calls such as
    `blosc2.asarray` would hold it for the whole compression. Serializing the frame
    (`to_cframe`) holds it too, and on two cores it took about 40 % of the compression
    time; so a chunk is compressed alone (`compress2`, the same bytes the frame holds)
    and set between the header and the trailer of a frame made once (`FrameTemplate`).
    A special chunk (all zeros) is stored differently in a frame: it takes the b2nd way.
    """

    def __init__(self, chunk_rows: int, columns: int, codec: str, threads: int) -> None:
        self.shape = (chunk_rows, columns)
        self.blocks = (min(chunk_rows, power_of_two_at_most(B2ND_BLOCK_BYTES // (8 * columns))), columns)
        self.threads = threads
        self.local = threading.local()  # each thread's b2nd array to compress into
        self.cparams = blosc2.CParams(
            codec=blosc2.Codec[codec.upper()],
            clevel=CLEVEL,
            filters=[blosc2.Filter.SHUFFLE],
            typesize=8,
            nthreads=threads,
        )
        blosc2.set_releasegil(True)  # process-wide; blosc2 results are the same either way
        # the chunk alone, compressed as the b2nd array compresses it: blocks of whole rows
        block_bytes = self.blocks[0] * self.blocks[1] * 8
        self.chunk_cparams = blosc2.CParams(**{**asdict(self.cparams), "blocksize": block_bytes})
        self.template = FrameTemplate.of(self.b2nd_frame(np.ones(self.shape)))

    def encode(self, chunk: np.ndarray) -> bytes:
        if chunk.shape != self.shape:  # the last chunk, zero-padded as HDF5 stores it
            padded = np.zeros(self.shape)
            padded[: len(chunk)] = chunk
            chunk = padded
        chunk = np.ascontiguousarray(chunk)
        if self.template is not None:
            frame = self.template.frame(blosc2.compress2(chunk, cparams=self.chunk_cparams))
            if frame is not None:
                return frame
        return self.b2nd_frame(chunk)

    def b2nd_frame(self, chunk: np.ndarray) -> bytes:
        """The frame as python-blosc2 writes it: a b2nd array of one chunk, this thread's
        own, whose chunk is replaced by the rows compressed, then serialized."""
        array = getattr(self.local, "array", None)
        if array is None:
            shapes = {"chunks": self.shape, "blocks": self.blocks}
            array = blosc2.uninit(self.shape, np.float64, **shapes, cparams=self.cparams, contiguous=False)
            self.local.array = array
        array.schunk.update_data(0, chunk, copy=False)
        return array.to_cframe()

    def decode(self, stored: Any, out: np.ndarray) -> None:
        """Decompress a stored chunk into `out` (shape of a chunk)."""
        array = blosc2.ndarray_from_cframe(stored)
        one_chunk = array.shape == out.shape and tuple(array.chunks) == out.shape
        chunk = first_chunk(stored, array, out.nbytes) if one_chunk else None
        if chunk is not None and tuple(array.blocks[1:]) == out.shape[1:]:
            blosc2.decompress2(chunk, dst=out, nthreads=self.threads)  # whole rows: row order
        else:  # a chunk written by another tool: let b2nd reorder it
            out[...] = array[...]


@dataclass(frozen=True)
class FrameTemplate:
    """A one-chunk blosc2 frame cut around its chunk: header, chunk, trailer.

    The trailer (the chunk offsets, the metalayers) does not depend on the chunk; the
    header does in two fields, the frame's length and its compressed bytes, big-endian
    int64s (msgpack) at bytes 16 and 39 of the c-blosc2 frame format. Any other layout
    gives no template (`of` returns None), and the b2nd way is used.
    """

    header: bytes
    trailer: bytes
    cbytes_beyond_chunk: int  # the header's compressed bytes minus the chunk's length

    @classmethod
    def of(cls, frame: bytes) -> "FrameTemplate | None":
        array = blosc2.ndarray_from_cframe(frame)
        chunk = first_chunk(frame, array, array.schunk.nbytes)
        if chunk is None or frame[FRAME_LEN - 1] != 0xCF or frame[FRAME_CBYTES - 1] != 0xD3:
            return None
        start = header_length(frame)
        if int64_at(frame, FRAME_LEN) != len(frame):
            return None
        return cls(frame[:start], frame[start + len(chunk) :], int64_at(frame, FRAME_CBYTES) - len(chunk))

    def frame(self, chunk: bytes) -> bytes | None:
        """The frame of this compressed chunk; None for a special chunk (zeros, NaNs,
        uninitialized: flagged in its header's byte 31), which a frame keeps elsewhere."""
        if len(chunk) < 32 or chunk[31] & SPECIAL_FLAGS:
            return None
        header = bytearray(self.header)
        size = len(header) + len(chunk) + len(self.trailer)
        header[FRAME_LEN : FRAME_LEN + 8] = size.to_bytes(8, "big")
        header[FRAME_CBYTES : FRAME_CBYTES + 8] = (self.cbytes_beyond_chunk + len(chunk)).to_bytes(8, "big")
        return b"".join((header, chunk, self.trailer))


FRAME_LEN, FRAME_CBYTES = 16, 39  # c-blosc2 frame header: frame length, compressed bytes
SPECIAL_FLAGS = 0x70  # chunk header byte 31, bits 4-6: a special value, no data


def int64_at(frame: Any, offset: int) -> int:
    """A big-endian int64 of a frame's header (a msgpack field's value)."""
    return int.from_bytes(frame[offset : offset + 8], "big")


def header_length(frame: Any) -> int:
    """The length of a frame's header: the int32 at bytes 11-14 (big-endian, msgpack)."""
    return int.from_bytes(frame[11:15], "big")


def first_chunk(frame: Any, array: Any, nbytes: int) -> memoryview | None:
    """The compressed bytes of the first chunk of a blosc2 frame, as a view (no copy),
    or None if they are not where a frame written in one go keeps them: right after
    the frame's header (`header_length`).
    The chunk's own header there must be the one blosc2 finds for chunk 0."""
    view = memoryview(frame).cast("B")
    if len(view) < 15:
        return None
    start = header_length(view)
    header = array.schunk.get_lazychunk(0)  # the header of chunk 0 (a copy of 32 bytes)
    if view[start : start + len(header)] != header:
        return None
    full, compressed, _ = blosc2.get_cbuffer_sizes(view[start : start + len(header)])
    if full != nbytes or start + compressed > len(view):
        return None
    return view[start : start + compressed]


def chunk_codec(spec: StoreSpec, threads: int | None = None) -> ChunkCodec | None:
    """The codec of direct chunk writes (None: the HDF5 filter pipeline compresses),
    `threads` blosc2 threads per chunk (default: the job's)."""
    if not spec.direct:
        return None
    layout = spec.layout
    codec = split_compression(spec.compression)[1]
    return ChunkCodec(layout.chunk_rows, layout.columns, codec, spec.threads if threads is None else threads)


def block_chunks(block: np.ndarray, chunk_rows: int) -> Iterator[tuple[int, np.ndarray]]:
    """(row offset in the block, rows) of every chunk of a block, in order."""
    for offset in range(0, len(block), chunk_rows):
        yield offset, block[offset : offset + chunk_rows]


class DirectChunkReader(PieceReader):
    """Stored chunks read raw (PyTables read_chunk, h5py read_direct_chunk) and
    decompressed by python-blosc2, each worker into its own chunk buffer."""

    def __init__(
        self,
        path: Path,
        layout: Layout,
        compression: str,
        stored_size: Callable[[int], int],
        read_stored: Callable[[int, bytearray], Any],
    ) -> None:
        super().__init__(layout, ahead_of=path)
        self.pieces = range(0, layout.rows, layout.chunk_rows)
        self.shape = (layout.chunk_rows, layout.columns)
        # one thread per chunk: the parallelism comes from the readers' workers
        self.codec = ChunkCodec(layout.chunk_rows, layout.columns, split_compression(compression)[1], 1)
        self.stored_size, self.read_stored = stored_size, read_stored
        self.raw = threading.local()  # each worker's buffer of stored bytes

    def fetch(self, start: int, buffer: np.ndarray) -> Any:
        self.read_ahead(start)
        size = self.stored_size(start)
        raw = getattr(self.raw, "buffer", None)
        if raw is None or size > len(raw):  # at most a chunk plus frame overhead
            raw = self.raw.buffer = bytearray(max(size, buffer.nbytes + 4096))
        return memoryview(self.read_stored(start, raw))[:size]

    def finish(self, start: int, stored: Any, buffer: np.ndarray) -> np.ndarray:
        self.codec.decode(stored, buffer)
        return buffer[: min(self.layout.chunk_rows, self.layout.rows - start)]
