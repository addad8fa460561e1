"""The write and read paths of direct chunks: chunks compressed on worker threads are
written once each, in row order, with a bounded number waiting; stored chunks decode
exactly, also when their frame is not the one this stage writes; the background sync
of earlier appends syncs each file of a directory store and hands its failure back."""

import socket
import threading
from pathlib import Path

import blosc2
import numpy as np
import pytest

from outofcore.hugearray.data import column_reduce
from outofcore.hugearray.stores.chunk_pipeline import ChunkPipeline
from outofcore.hugearray.stores.hdf5_chunks import ChunkCodec, FrameTemplate
from outofcore.hugearray.stores.writeback import Writeback

CHUNK_ROWS, COLUMNS = 1024, 8


def rows(count: int, seed: int = 0) -> np.ndarray:
    values = np.random.default_rng(seed).integers(0, 2**16, size=(count, COLUMNS))
    return values.astype(np.float64)


class CountingCodec(ChunkCodec):
    """The real codec, counting the chunks compressed but not yet written."""

    def __init__(self) -> None:
        super().__init__(CHUNK_ROWS, COLUMNS, "lz4", 1)
        self.lock, self.waiting, self.most_waiting = threading.Lock(), 0, 0

    def encode(self, chunk: np.ndarray) -> bytes:
        stored = super().encode(chunk)
        with self.lock:
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
        return stored

    def written(self) -> None:
        with self.lock:
            self.waiting -= 1


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_pipeline_writes_every_chunk_once_in_order(workers):
    codec = CountingCodec()
    written: list[tuple[int, bytes]] = []

    def write(row: int, stored: bytes) -> None:
        codec.written()
        written.append((row, stored))

    pipeline = ChunkPipeline(codec, CHUNK_ROWS, workers, write)
    block = rows(10 * CHUNK_ROWS + 100)  # a partial last chunk
    try:
        pipeline.write_block(5 * CHUNK_ROWS, block)
    finally:
        pipeline.close()
    assert [row for row, _ in written] == [5 * CHUNK_ROWS + i * CHUNK_ROWS for i in range(11)]
    assert codec.most_waiting <= 2 * workers + 1  # bounded: a few chunks, not the block
    out = np.empty((CHUNK_ROWS, COLUMNS))
    for i, (_, stored) in enumerate(written):
        codec.decode(stored, out)
        part = block[i * CHUNK_ROWS : (i + 1) * CHUNK_ROWS]
        np.testing.assert_array_equal(out[: len(part)], part)
        assert not out[len(part) :].any()  # the padding of the last chunk


def test_a_compression_failure_reaches_the_writer():
    def write(row: int, stored: bytes) -> None:
        raise AssertionError("nothing may be written after a failed compression")

    pipeline = ChunkPipeline(ChunkCodec(CHUNK_ROWS, COLUMNS, "lz4", 1), CHUNK_ROWS, 2, write)
    try:
        with pytest.raises(ValueError):
            pipeline.write_block(0, np.ones((CHUNK_ROWS, COLUMNS + 1)))  # not a chunk's shape
    finally:
        pipeline.close()


KINDS = {
    "integers": rows(CHUNK_ROWS, seed=5),
    "random floats": np.random.default_rng(6).random((CHUNK_ROWS, COLUMNS)),
    "incompressible bytes": np.random.default_rng(7).bytes(CHUNK_ROWS * COLUMNS * 8),
    "one value": np.full((CHUNK_ROWS, COLUMNS), 3.0),
    "NaNs": np.full((CHUNK_ROWS, COLUMNS), np.nan),
    "zeros": np.zeros((CHUNK_ROWS, COLUMNS)),
    "a short last chunk": rows(100, seed=8),
}


@pytest.mark.parametrize("codec_name", ["lz4", "zstd"])
@pytest.mark.parametrize("kind", KINDS)
def test_frame_around_a_compressed_chunk_is_python_blosc2s_frame(codec_name, kind):
    """The frame made from the template is byte for byte the one python-blosc2 serializes
    (a zero chunk, special in a frame, is serialized by python-blosc2 itself), and it
    decodes to the rows, zero-padded to a whole chunk."""
    codec = ChunkCodec(CHUNK_ROWS, COLUMNS, codec_name, 1)
    assert codec.template is not None
    data = KINDS[kind]
    if isinstance(data, bytes):
        data = np.frombuffer(data, dtype=np.float64).reshape(CHUNK_ROWS, COLUMNS)
    whole = np.zeros((CHUNK_ROWS, COLUMNS))
    whole[: len(data)] = data
    stored = codec.encode(data)
    assert bytes(stored) == bytes(codec.b2nd_frame(whole))
    out = np.empty((CHUNK_ROWS, COLUMNS))
    codec.decode(stored, out)
    np.testing.assert_array_equal(out, whole)
    special = codec.template.frame(blosc2.compress2(whole, cparams=codec.chunk_cparams)) is None
    assert special == (kind == "zeros")


def test_a_frame_of_another_layout_gives_no_template():
    frame = bytearray(ChunkCodec(CHUNK_ROWS, COLUMNS, "lz4", 1).b2nd_frame(rows(CHUNK_ROWS)))
    assert FrameTemplate.of(bytes(frame)) is not None
    frame[15] = 0xD3  # the frame length's msgpack type is not uint64
    assert FrameTemplate.of(bytes(frame)) is None


def test_frames_of_other_writers_decode_exactly():
    """A chunk of zeros (stored as a special value, no data after the header) and a
    frame whose blocks are not whole rows take the general path, with the same result."""
    codec = ChunkCodec(CHUNK_ROWS, COLUMNS, "lz4", 1)
    out = np.empty((CHUNK_ROWS, COLUMNS))
    zeros = np.zeros((CHUNK_ROWS, COLUMNS))
    out[...] = 1
    codec.decode(codec.encode(zeros), out)
    np.testing.assert_array_equal(out, zeros)
    data = rows(CHUNK_ROWS, seed=3)
    other = blosc2.asarray(data, chunks=data.shape, blocks=(64, 4), cparams=codec.cparams).to_cframe()
    codec.decode(other, out)
    np.testing.assert_array_equal(out, data)


def test_writeback_syncs_each_file_of_a_directory_once(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    writeback = Writeback(store, lambda path: sorted(Path(path).rglob("*.bin")), directory=True)
    with writeback.during_append():
        (store / "a.bin").write_bytes(b"a" * 4096)
    with writeback.during_append():  # finds a.bin, written by the append before
        (store / "b.bin").write_bytes(b"b" * 4096)
    assert writeback.synced == {store / "a.bin"}
    with writeback.during_append():
        pass
    assert writeback.synced == {store / "a.bin", store / "b.bin"}


def test_writeback_failure_is_raised_by_the_append(tmp_path):
    """A file the background sync cannot open (a socket) fails the append that waited."""
    unopenable = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(unopenable))
        writeback = Writeback(tmp_path, lambda path: [unopenable], directory=True)
        with pytest.raises(OSError), writeback.during_append():
            pass
    not_yet = Writeback(tmp_path / "missing.h5", lambda path: [], directory=False)
    with not_yet.during_append():  # a single file not created yet: nothing to sync
        pass
    assert not_yet.synced == set()


@pytest.mark.parametrize("rows_", [1, 100, 127, 128, 129, 5000, 65536 + 7])
def test_column_reduce_folds_any_number_of_rows(rows_):
    block = rows(rows_, seed=rows_)
    for ufunc in (np.add, np.minimum, np.maximum):
        np.testing.assert_array_equal(column_reduce(ufunc, block), ufunc.reduce(block, axis=0))
    source = block.astype(np.uint16)
    total = column_reduce(np.add, source, dtype=np.int64)
    assert total.dtype == np.int64
    np.testing.assert_array_equal(total, source.sum(axis=0, dtype=np.int64))
