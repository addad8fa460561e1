"""The huge-array stage's data and its statistics, exact and out of core.

The stage's own data (`uniform_int16`, the default; other sources: `hugearray_source`):
integers uniform in [0, 2**16) (16-bit samples, as an ADC gives) stored as float64. They
compress somewhat but not trivially (blosc2 lz4 + shuffle: ratio about 2.9): the
sign/exponent bytes are nearly constant and the low mantissa bytes are zero, but 16
random bits per value stay incompressible.

The check (`ColumnStats.matches`): min, max and rows always exactly. Sums: every partial
sum of integers below 2**53 in magnitude is exact in float64 whatever the order, so an
integer source whose rows x largest |value| stays below 2**53 is checked exactly (sum and
mean). A float sum depends on the order of the additions; it is checked within a bound
that holds for any order (`sum_tolerance`).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from outofcore.core.seeding import rng_for
from outofcore.hugearray.stores.layout import Layout, power_of_two_at_most

VALUE_BITS = 16  # values are integers in [0, 2**16)
WIDE_ROW = 1024  # values in a row of `column_reduce`'s wide view
UNIT_ROUNDOFF = 2.0**-53  # float64's relative rounding error
ABS_PIECE_ROWS = 1 << 14  # |values| of a float block are summed this many rows at a time


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
    magnitude: np.ndarray = field(init=False)  # sum of |value| per column (float sources)

    def __post_init__(self) -> None:
        self.total = np.zeros(self.columns, dtype=self.dtype)
        self.magnitude = np.zeros(self.columns)
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
        """Fold in a block of the source before it is written (the reference): integers in
        exact int64 arithmetic, floats in float64 with the sum of their magnitudes."""
        self.rows += len(source)
        self.total += column_reduce(np.add, source, dtype=self.dtype)
        np.minimum(self.low, column_reduce(np.minimum, source), out=self.low)
        np.maximum(self.high, column_reduce(np.maximum, source), out=self.high)
        if np.dtype(self.dtype).kind == "f":  # |values| a piece at a time: no block-sized copy
            for start in range(0, len(source), ABS_PIECE_ROWS):
                piece = np.abs(source[start : start + ABS_PIECE_ROWS], dtype=np.float64)
                self.magnitude += column_reduce(np.add, piece)

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

    def exact_sums(self) -> bool:
        """Integer reference whose every partial sum, in any order, is an integer below
        2**53 in magnitude (rows x largest |value|): float64 sums of it are exact."""
        if np.dtype(self.dtype).kind not in "iu" or self.rows == 0:
            return False
        largest = max(abs(int(v)) for v in (*self.low, *self.high))
        return self.rows * largest < 2**53

    def sum_tolerance(self) -> np.ndarray:
        """How far two float64 sums of this reference's values may differ, per column.

        Any order of additions of n terms errs by at most gamma(n-1) * sum|x|, with
        gamma(k) = k u / (1 - k u) and u = 2**-53 (Higham, Accuracy and Stability of
        Numerical Algorithms, 2nd ed., eq. 4.4; pairwise, blocked and per-thread partial
        sums are such orders). The reduce and the reference are two such sums: they
        differ by at most 2 gamma(n-1) sum|x|; 3 n u sum|x| also covers gamma's
        denominator and the rounding of sum|x| itself (n u < 1e-3 here). For integers,
        sum|x| is bounded by rows x largest |value|."""
        magnitude = self.magnitude
        if np.dtype(self.dtype).kind in "iu":
            magnitude = self.rows * np.maximum(np.abs(self.low), np.abs(self.high)).astype(np.float64)
        return 3.0 * self.rows * UNIT_ROUNDOFF * magnitude

    def matches(self, exact: "ColumnStats") -> bool:
        """True if these statistics read back agree with the reference: rows, min and max
        value for value; sum and mean exactly where `exact_sums`, else within
        `sum_tolerance` (and the mean within it / rows, plus the rounding of two divisions)."""
        if self.rows != exact.rows:
            return False
        extremes = np.array_equal(self.low, exact.low.astype(np.float64), equal_nan=True) and np.array_equal(
            self.high, exact.high.astype(np.float64), equal_nan=True
        )
        if exact.exact_sums():
            return (
                extremes
                and np.array_equal(self.total, exact.total.astype(np.float64))
                and np.array_equal(self.mean, exact.mean)
            )
        tolerance = exact.sum_tolerance()
        mean = exact.mean.astype(np.float64)
        return (
            extremes
            and within(self.total, exact.total.astype(np.float64), tolerance)
            and within(self.mean, mean, tolerance / exact.rows + 4 * UNIT_ROUNDOFF * np.abs(mean))
        )

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"sum": self.total, "mean": self.mean, "min": self.low, "max": self.high},
            index=pd.RangeIndex(self.columns, name="column"),
        )


def within(values: np.ndarray, reference: np.ndarray, tolerance: np.ndarray) -> bool:
    """|values - reference| <= tolerance everywhere; where the reference is not finite
    (a NaN or an infinity in the data), the values must be the same."""
    finite = np.isfinite(reference)
    close = np.abs(values[finite] - reference[finite]) <= tolerance[finite]
    return bool(close.all()) and np.array_equal(values[~finite], reference[~finite], equal_nan=True)
