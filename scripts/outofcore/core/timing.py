"""Sound timings: timeit-style autoranging, several samples, the median and the spread.

A single `perf_counter` around a microsecond call measures the timer, not the call:
each sample here loops the call until it lasts at least `min_time`, and reports seconds
per call; `repeats` such samples give the median, min and max.

`measure_interleaved` times several points of one job in rounds: one sample of every
point per round, so a busy spell of the machine slows all points alike instead of
whichever point happened to run during it. Each point's `spread` ((max - min) / median)
says how sure its median is; a point is `stable` when the spread is at most 15 %.
"""

import math
import statistics
import timeit
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TypeVar

import pandas as pd

STABLE_SPREAD = 0.15  # (max - min) / median of a point's samples at most this: stable
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Timing:
    seconds: float  # median seconds per call over the samples
    seconds_min: float
    seconds_max: float
    repeats: int  # samples taken
    number: int  # calls per sample

    def rate(self, amount: float) -> float:
        """`amount` (bytes, rows...) per second at the median time."""
        return amount / self.seconds

    def best_rate(self, amount: float) -> float:
        """`amount` per second in the fastest sample: what a limit is (other load only slows)."""
        return amount / self.seconds_min

    @property
    def spread(self) -> float:
        """(max - min) / median of the samples: NaN for one sample, which shows no spread
        but proves no steadiness either."""
        if self.repeats < 2:
            return math.nan
        return (self.seconds_max - self.seconds_min) / self.seconds if self.seconds > 0 else 0.0

    @property
    def stable(self) -> bool:
        """Spread at most 15 %: False for a single sample (unknown)."""
        return self.spread <= STABLE_SPREAD

    def columns(self) -> dict[str, float | int | bool]:
        """The columns every timed table carries: median, extremes, samples, spread, stable."""
        return {
            "seconds": self.seconds,
            "seconds_min": self.seconds_min,
            "seconds_max": self.seconds_max,
            "repeats": self.repeats,
            "spread": self.spread,
            "stable": self.stable,
        }

    def scaled(self, factor: float) -> "Timing":
        """The same samples times `factor` (an extrapolation to a larger amount)."""
        return Timing(
            self.seconds * factor, self.seconds_min * factor, self.seconds_max * factor, self.repeats, 1
        )


@dataclass(frozen=True)
class Point:
    """One thing to time: `func` looped per sample, `setup` before each sample (untimed)."""

    func: Callable[[], object]
    setup: Callable[[], object] | None = None
    min_time: float = 0.02


def calibrate(timer: timeit.Timer, min_time: float) -> tuple[int, float]:
    """Calls per sample so that a sample lasts at least `min_time` (timeit.autorange,
    scaled from the measured time instead of only doubling), and that last trial's time."""
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= min_time:
            return number, elapsed
        # aim 20 % past min_time from what was measured; at least double, at most x1000
        scale = min_time * 1.2 / elapsed if elapsed > 0 else 1000.0
        number = max(number * 2, math.ceil(number * min(scale, 1000.0)))


def summarize(totals: list[float], number: int) -> Timing:
    samples = [total / number for total in totals]
    return Timing(
        seconds=statistics.median(samples),
        seconds_min=min(samples),
        seconds_max=max(samples),
        repeats=len(samples),
        number=number,
    )


def measure_interleaved(
    points: Mapping[K, Point], repeats: int = 3, on_sample: Callable[[], object] | None = None
) -> dict[K, Timing]:
    """Median seconds per call of every point over `repeats` samples taken in rounds.

    Each point is first calibrated (its last calibration trial is its first sample),
    then every further round takes one sample of each point in turn. Garbage collection
    is off while timing, as in timeit. `on_sample` is called after each sample of each
    point (progress in the log).
    """
    tick = on_sample or (lambda: None)
    timers = {key: timeit.Timer(p.func, setup=p.setup or (lambda: None)) for key, p in points.items()}
    numbers: dict[K, int] = {}
    totals: dict[K, list[float]] = {}
    for key, timer in timers.items():
        numbers[key], first = calibrate(timer, points[key].min_time)
        totals[key] = [first]
        tick()
    for _ in range(repeats - 1):
        for key, timer in timers.items():
            totals[key].append(timer.timeit(numbers[key]))
            tick()
    return {key: summarize(totals[key], numbers[key]) for key in points}


def measure(
    func: Callable[[], object],
    repeats: int = 3,
    min_time: float = 0.02,
    setup: Callable[[], object] | None = None,
    on_sample: Callable[[], object] | None = None,
) -> Timing:
    """Median seconds per call of `func` over `repeats` autoranged samples.

    `setup` runs before each sample, outside the timed region (for example to reset a
    file). Garbage collection is off while timing, as in timeit. The last calibration
    trial is a full sample of the final size, so it counts as the first sample: a call
    slower than `min_time` runs `repeats` times in all, not once more. `on_sample` is
    called after each sample (progress in the log).
    """
    return measure_interleaved({0: Point(func, setup, min_time)}, repeats, on_sample)[0]


def stable_flags(table: pd.DataFrame) -> pd.Series:
    """A timed table's `stable` column as booleans, however the CSV gave it back (True,
    "True", "true"); every row counts as stable in a table without the column."""
    if "stable" not in table:
        return pd.Series(True, index=table.index)
    return table["stable"].astype(str).str.lower().eq("true")


def spread_of_parts(durations: Sequence[float], parts: int = 4) -> float:
    """The spread of one long pass timed piece by piece: the pieces' durations summed in
    `parts` consecutive groups (quarters of the pass), then (max - min) / median of the
    groups. NaN with fewer than two pieces: one sample has no spread."""
    if len(durations) < 2:
        return math.nan
    groups = min(parts, len(durations))
    bounds = [round(i * len(durations) / groups) for i in range(groups + 1)]
    sums = [sum(durations[a:b]) for a, b in pairwise(bounds)]
    middle = statistics.median(sums)
    return (max(sums) - min(sums)) / middle if middle > 0 else math.nan
