"""The huge-array stage's data and its statistics, exact and out of core.

The stage's own data (`uniform_int16`, the default; other sources: `hugearray_source`):
integers uniform in [0, 2**16) (16-bit samples, as an ADC gives) stored as float64. They
compress somewhat but not trivially (blosc2 lz4 + shuffle: ratio about 2.9): the
sign/exponent bytes are nearly constant and the low mantissa bytes are zero, but 16
random bits per value stay incompressible.

The check (`ColumnStats.matches`): rows and missing values per column exactly; over the
present values, min and max always exactly. Sums: every partial
sum of integers below 2**53 in magnitude is exact in float64 whatever the order, so an
integer source whose rows x largest |value| stays below 2**53 is checked exactly (sum and
mean). A float sum depends on the order of the additions; it is checked within a bound
that holds for any order (`sum_tolerance`). A column with no present value (all NaN) has
nothing to check: its job's `check` names it (`no values in column ...`), never `ok`.
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
NO_VALUES = "no values in column"  # the check of an array with a column of missing values only


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
    """Running per-column sum, min and max of the present values over blocks, the rows seen
    and the missing values (NaN; a masked integer of the source) per column."""

    columns: int
    dtype: Any = np.float64
    rows: int = 0
    total: np.ndarray = field(init=False)
    low: np.ndarray = field(init=False)
    high: np.ndarray = field(init=False)
    reported_mean: np.ndarray | None = None  # a mean computed by an engine itself
    magnitude: np.ndarray = field(init=False)  # sum of |value| per column (float sources)
    missing: np.ndarray = field(init=False)  # missing values per column

    def __post_init__(self) -> None:
        self.total = np.zeros(self.columns, dtype=self.dtype)
        self.magnitude = np.zeros(self.columns)
        self.missing = np.zeros(self.columns, dtype=np.int64)
        lowest, highest = self.neutral()
        self.low = np.full(self.columns, lowest, dtype=self.dtype)
        self.high = np.full(self.columns, highest, dtype=self.dtype)

    def neutral(self) -> tuple[Any, Any]:
        """The starting min and max: what any value replaces (inf for floats)."""
        kind = np.dtype(self.dtype)
        if kind.kind in "iu":
            info = np.iinfo(kind)
            return kind.type(info.max), kind.type(info.min)
        return kind.type(np.inf), kind.type(-np.inf)

    @property
    def present(self) -> np.ndarray:
        return self.rows - self.missing

    @property
    def mean(self) -> np.ndarray:
        if self.reported_mean is not None:
            return self.reported_mean
        present = self.present
        return np.divide(self.total, present, out=np.full(self.columns, np.nan), where=present > 0)

    @classmethod
    def computed(
        cls,
        rows: int,
        total: np.ndarray,
        mean: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        missing: np.ndarray | None = None,
    ) -> "ColumnStats":
        """Statistics an engine computed in one go (its own mean, not total / rows)."""
        stats = cls(len(total))
        stats.rows = rows
        stats.total, stats.low, stats.high = (np.asarray(v, dtype=np.float64) for v in (total, low, high))
        stats.reported_mean = np.asarray(mean, dtype=np.float64)
        if missing is not None:
            stats.missing = np.asarray(missing, dtype=np.int64)
        return stats

    def add_block(self, block: np.ndarray) -> None:
        """Fold in a float64 block read from the store (the out-of-core path)."""
        self.fold(block)

    def add_source(self, source: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Fold in a block of the source before it is written (the reference): integers in
        exact int64 arithmetic (`mask`: the missing ones), floats in float64 with the sum
        of their magnitudes."""
        holes = self.fold(source, mask, self.dtype)
        if np.dtype(self.dtype).kind == "f":  # |values| a piece at a time: no block-sized copy
            for start in range(0, len(source), ABS_PIECE_ROWS):
                piece = np.abs(source[start : start + ABS_PIECE_ROWS], dtype=np.float64)
                self.magnitude += np.nansum(piece, axis=0) if holes else column_reduce(np.add, piece)

    def fold(self, values: np.ndarray, mask: np.ndarray | None = None, dtype: Any = None) -> bool:
        """Fold in a block; True if some column held a missing value (or a NaN sum)."""
        self.rows += len(values)
        total = column_reduce(np.add, values, dtype=dtype)
        low = column_reduce(np.minimum, values).astype(self.low.dtype, copy=False)
        high = column_reduce(np.maximum, values).astype(self.high.dtype, copy=False)
        holes = np.isnan(total) if total.dtype.kind == "f" else np.zeros(self.columns, dtype=bool)
        if mask is not None:
            holes |= mask.any(axis=0)
        if holes.any():  # only then: the values without holes take the fast path above
            self.fold_present(values, mask, np.flatnonzero(holes), (total, low, high), dtype)
        self.total += total
        np.fmin(self.low, low, out=self.low)  # fmin: a column with no value so far stays as it was
        np.fmax(self.high, high, out=self.high)
        return bool(holes.any())

    def fold_present(
        self, values: np.ndarray, mask: np.ndarray | None, cols: np.ndarray, out: tuple, dtype: Any
    ) -> None:
        """Sum, min and max of the present values of columns `cols` into `out` (total, low,
        high), counting the missing ones, a piece of rows at a time."""
        total, low, high = out
        lowest, highest = self.neutral()  # a column with no value in this block keeps these
        sums = np.zeros(len(cols), dtype=total.dtype)
        small, large = np.full(len(cols), lowest, low.dtype), np.full(len(cols), highest, high.dtype)
        for start in range(0, len(values), ABS_PIECE_ROWS):
            piece = values[start : start + ABS_PIECE_ROWS][:, cols]
            gone = np.isnan(piece) if piece.dtype.kind == "f" else np.zeros(piece.shape, dtype=bool)
            if mask is not None:
                gone |= mask[start : start + ABS_PIECE_ROWS][:, cols]
            self.missing[cols] += gone.sum(axis=0)
            sums += np.where(gone, 0, piece).sum(axis=0, dtype=dtype or total.dtype)
            small = np.minimum(small, np.where(gone, lowest, piece).min(axis=0))
            large = np.maximum(large, np.where(gone, highest, piece).max(axis=0))
        total[cols], low[cols], high[cols] = sums, small, large

    @classmethod
    def merged(cls, parts: list["ColumnStats"]) -> "ColumnStats":
        """One statistics from several over disjoint rows."""
        whole = cls(parts[0].columns, parts[0].dtype)
        for part in parts:
            whole.rows += part.rows
            whole.total += part.total
            whole.missing += part.missing
            np.fmin(whole.low, part.low, out=whole.low)
            np.fmax(whole.high, part.high, out=whole.high)
        return whole

    def exact_sums(self) -> bool:
        """Integer reference whose every partial sum, in any order, is an integer below
        2**53 in magnitude (rows x largest |value|): float64 sums of it are exact."""
        seen = self.present > 0
        if np.dtype(self.dtype).kind not in "iu" or not seen.any():
            return False
        largest = max(abs(int(v)) for v in (*self.low[seen], *self.high[seen]))
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
            largest = np.maximum(np.abs(self.low.astype(np.float64)), np.abs(self.high.astype(np.float64)))
            magnitude = self.rows * np.where(self.present > 0, largest, 0.0)
        return 3.0 * self.rows * UNIT_ROUNDOFF * magnitude

    def matches(self, exact: "ColumnStats") -> bool:
        """True if these statistics read back agree with the reference: rows and missing
        values per column exactly; over the present values, min and max value for value;
        sum and mean exactly where `exact_sums`, else within `sum_tolerance` (and the mean
        within it / present values, plus the rounding of two divisions). A column with
        no present value has nothing else to compare (`verdict` says so)."""
        if self.rows != exact.rows or not np.array_equal(self.missing, exact.missing):
            return False
        seen = exact.present > 0
        mine = [v[seen] for v in (self.low, self.high, self.total, self.mean)]
        theirs = [
            np.asarray(v, dtype=np.float64)[seen] for v in (exact.low, exact.high, exact.total, exact.mean)
        ]
        extremes = all(
            np.array_equal(a, b, equal_nan=True) for a, b in zip(mine[:2], theirs[:2], strict=True)
        )
        if exact.exact_sums():
            return extremes and np.array_equal(mine[2], theirs[2]) and np.array_equal(mine[3], theirs[3])
        tolerance = exact.sum_tolerance()[seen]
        mean = theirs[3]
        return (
            extremes
            and within(mine[2], theirs[2], tolerance)
            and within(mine[3], mean, tolerance / exact.present[seen] + 4 * UNIT_ROUNDOFF * np.abs(mean))
        )

    def verdict(self, exact: "ColumnStats") -> str:
        """The job's `check`: `ok` only if every column has present values and they agree;
        `mismatch` if any disagree; else which columns had no value to check."""
        if not self.matches(exact):
            return "mismatch"
        empty = np.flatnonzero(exact.present == 0)
        return "ok" if not empty.size else f"{NO_VALUES} {', '.join(str(c) for c in empty)}"

    def table(self) -> pd.DataFrame:
        seen = self.present > 0
        low, high = (np.where(seen, v.astype(np.float64), np.nan) for v in (self.low, self.high))
        return pd.DataFrame(
            {"sum": self.total, "mean": self.mean, "min": low, "max": high, "missing": self.missing},
            index=pd.RangeIndex(self.columns, name="column"),
        )


def checked(check: str) -> bool:
    """A check that is no wrong answer: `ok`, or columns with no value to check."""
    return check == "ok" or check.startswith(NO_VALUES)


def within(values: np.ndarray, reference: np.ndarray, tolerance: np.ndarray) -> bool:
    """|values - reference| <= tolerance everywhere; where the reference is not finite
    (a NaN or an infinity in the data), the values must be the same."""
    finite = np.isfinite(reference)
    close = np.abs(values[finite] - reference[finite]) <= tolerance[finite]
    return bool(close.all()) and np.array_equal(values[~finite], reference[~finite], equal_nan=True)
