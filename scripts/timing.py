"""Sound timings: timeit-style autoranging, several samples, the median reported.

A single `perf_counter` around a microsecond call measures the timer, not the call:
each sample here loops the call until it lasts at least `min_time`, and reports seconds
per call; `repeats` such samples give the median, min and max.
"""

import statistics
import timeit
from collections.abc import Callable
from dataclasses import dataclass


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


def calls_per_sample(timer: timeit.Timer, min_time: float) -> int:
    """The smallest power of two of calls that lasts at least `min_time` (timeit.autorange)."""
    number = 1
    while True:
        if timer.timeit(number) >= min_time:
            return number
        number *= 2


def measure(
    func: Callable[[], object],
    repeats: int = 3,
    min_time: float = 0.02,
    setup: Callable[[], object] | None = None,
) -> Timing:
    """Median seconds per call of `func` over `repeats` autoranged samples.

    `setup` runs before each sample, outside the timed region (for example to reset a
    file). Garbage collection is off while timing, as in timeit.
    """
    timer = timeit.Timer(func, setup=setup or (lambda: None))
    number = calls_per_sample(timer, min_time)
    samples = [total / number for total in timer.repeat(repeat=repeats, number=number)]
    return Timing(
        seconds=statistics.median(samples),
        seconds_min=min(samples),
        seconds_max=max(samples),
        repeats=repeats,
        number=number,
    )
