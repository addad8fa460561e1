"""The array's shape on disk (rows, columns, block and chunk rows) and how one job
stores it (`StoreSpec`): what every backend's writer and reader are given."""

from collections.abc import Iterator
from dataclasses import dataclass

from outofcore.plan.units import MiB


def power_of_two_at_most(value: int) -> int:
    return 1 << (max(1, value).bit_length() - 1)


@dataclass(frozen=True)
class Layout:
    """Rows and columns of the array, and the rows of a block and of a chunk.

    Chunk rows are a power of two (so a blosc2 block divides a chunk) and a block is a
    whole number of chunks (so every block but the last writes whole chunks).
    """

    rows: int
    columns: int
    block_rows: int
    chunk_rows: int

    @classmethod
    def from_sizes(cls, size_mb: int, columns: int, block_mb: int, chunk_kb: int) -> "Layout":
        row_bytes = 8 * columns
        chunk_rows = power_of_two_at_most(chunk_kb * 1024 // row_bytes)
        block_rows = max(1, block_mb * MiB // row_bytes // chunk_rows) * chunk_rows
        return cls(size_mb * MiB // row_bytes, columns, block_rows, chunk_rows)

    @property
    def nbytes(self) -> int:
        return self.rows * self.columns * 8

    @property
    def block_nbytes(self) -> int:
        return self.block_rows * self.columns * 8

    def blocks(self) -> Iterator[tuple[int, int]]:
        """(start, stop) rows of every block, in order."""
        for start in range(0, self.rows, self.block_rows):
            yield start, min(start + self.block_rows, self.rows)


@dataclass(frozen=True)
class StoreSpec:
    """How one job stores its array: what a backend's writer and reader are given.

    `compression` is what the backend really applies ("none" for a backend that stores
    raw bytes); `direct` is True when the backend compresses and writes whole chunks
    itself (python-blosc2) instead of going through its library's filter pipeline.
    """

    layout: Layout
    compression: str
    threads: int
    direct: bool
    zarr_shards: bool = False  # Zarr: one shard per block, the chunks inside it
    b2nd_block_kb: int = 256  # blosc2 NDArray: KiB of a block inside a chunk (whole rows)
    # how a store a user configures is written and read: "default" (as a newcomer types
    # it) or "tuned" (as its documentation advises); "pipeline": the workflow's own
    setting: str = "pipeline"
    engine_setting: str = "pipeline"  # the same for the reduce engine (dask, blosc2)


def split_compression(compression: str) -> tuple[str, str | None]:
    """'blosc2:lz4' -> ('blosc2', 'lz4'); 'zlib' -> ('zlib', None); 'none' -> ('none', None)."""
    library, _, codec = compression.partition(":")
    return library, codec or None
