"""The huge-array stage's data and its statistics, exact and out of core.

The data: integers uniform in [0, 2**16) (16-bit samples, as an ADC gives) stored as
float64. They compress somewhat but not trivially (blosc2 lz4 + shuffle: ratio about
2.9): the sign/exponent bytes are nearly constant and the low mantissa bytes are zero,
but 16 random bits per value stay incompressible. And every partial sum of integers
below 2**53 is exact in float64 whatever the order, so the check needs no tolerance.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from outofcore.seeding import rng_for
from outofcore.stores.layout import Layout, power_of_two_at_most

VALUE_BITS = 16  # values are integers in [0, 2**16)
WIDE_ROW = 1024  # values in a row of `column_reduce`'s wide view


def generate_blocks(seed: int, layout: Layout) -> Iterator[np.ndarray]:
    """The array's blocks as uint16 arrays, drawn one at a time from the seeded stream."""
    rng = rng_for(seed, "hugearray")
    for start, stop in layout.blocks():
        yield rng.integers(0, 2**VALUE_BITS, size=(stop - start, layout.columns), dtype=np.uint16)


def column_reduce(ufunc: np.ufunc, block: np.ndarray, dtype: Any = None) -> np.ndarray:
    """`ufunc` reduced over the rows of a (rows, columns) block, one value per column.

    `ufunc.reduce(block, axis=0)` on a C-ordered block with few columns runs an inner
    loop of `columns` elements per row, which is slow. Viewing `fold` rows as one wide
    row gives long contiguous inner loops; folding the partial results gives the same
    per-column values (exactly, for min/max and for sums of integers). Rows of about
    1024 values run three times faster than rows of 64 (the loop's overhead per row).
    """
    rows, columns = block.shape
    fold = power_of_two_at_most(max(1, WIDE_ROW // columns))
    whole = rows - rows % fold  # the rows that fold; the rest are reduced as they are
    if fold == 1 or whole == 0 or not block.flags.c_contiguous:
        return ufunc.reduce(block, axis=0, dtype=dtype)
    wide = ufunc.reduce(block[:whole].reshape(whole // fold, fold * columns), axis=0, dtype=dtype)
    folded = ufunc.reduce(wide.reshape(fold, columns), axis=0)
    if whole == rows:
        return folded
    return ufunc(folded, ufunc.reduce(block[whole:], axis=0, dtype=dtype))


@dataclass
class ColumnStats:
    """Running per-column sum, min and max over blocks, and the rows seen."""

    columns: int
    dtype: Any = np.float64
    rows: int = 0
    total: np.ndarray = field(init=False)
    low: np.ndarray = field(init=False)
    high: np.ndarray = field(init=False)
    reported_mean: np.ndarray | None = None  # a mean computed by an engine itself

    def __post_init__(self) -> None:
        self.total = np.zeros(self.columns, dtype=self.dtype)
        info = np.finfo(self.dtype) if np.dtype(self.dtype).kind == "f" else np.iinfo(self.dtype)
        self.low = np.full(self.columns, info.max, dtype=self.dtype)
        self.high = np.full(self.columns, info.min, dtype=self.dtype)

    @property
    def mean(self) -> np.ndarray:
        return self.total / self.rows if self.reported_mean is None else self.reported_mean

    @classmethod
    def computed(
        cls, rows: int, total: np.ndarray, mean: np.ndarray, low: np.ndarray, high: np.ndarray
    ) -> "ColumnStats":
        """Statistics an engine computed in one go (its own mean, not total / rows)."""
        stats = cls(len(total))
        stats.rows = rows
        stats.total, stats.low, stats.high = (np.asarray(v, dtype=np.float64) for v in (total, low, high))
        stats.reported_mean = np.asarray(mean, dtype=np.float64)
        return stats

    def add_block(self, block: np.ndarray) -> None:
        """Fold in a float64 block read from the store (the out-of-core path)."""
        self.rows += len(block)
        self.total += column_reduce(np.add, block)
        np.minimum(self.low, column_reduce(np.minimum, block), out=self.low)
        np.maximum(self.high, column_reduce(np.maximum, block), out=self.high)

    def add_source(self, source: np.ndarray) -> None:
        """Fold in a generated uint16 block, in exact integer arithmetic (the reference)."""
        self.rows += len(source)
        self.total += column_reduce(np.add, source, dtype=np.int64)
        np.minimum(self.low, column_reduce(np.minimum, source), out=self.low)
        np.maximum(self.high, column_reduce(np.maximum, source), out=self.high)

    @classmethod
    def merged(cls, parts: list["ColumnStats"]) -> "ColumnStats":
        """One statistics from several over disjoint rows."""
        whole = cls(parts[0].columns, parts[0].dtype)
        for part in parts:
            whole.rows += part.rows
            whole.total += part.total
            np.minimum(whole.low, part.low, out=whole.low)
            np.maximum(whole.high, part.high, out=whole.high)
        return whole

    def matches(self, exact: "ColumnStats") -> bool:
        """True if these float statistics equal the exact integer ones, value for value."""
        return (
            self.rows == exact.rows
            and np.array_equal(self.total, exact.total.astype(np.float64))
            and np.array_equal(self.mean, exact.mean)
            and np.array_equal(self.low, exact.low.astype(np.float64))
            and np.array_equal(self.high, exact.high.astype(np.float64))
        )

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"sum": self.total, "mean": self.mean, "min": self.low, "max": self.high},
            index=pd.RangeIndex(self.columns, name="column"),
        )
