"""Sound timings: timeit-style autoranging, several samples, the median reported.

A single `perf_counter` around a microsecond call measures the timer, not the call:
each sample here loops the call until it lasts at least `min_time`, and reports seconds
per call; `repeats` such samples give the median, min and max.
"""

import math
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
    timer = timeit.Timer(func, setup=setup or (lambda: None))
    tick = on_sample or (lambda: None)
    number, first = calibrate(timer, min_time)
    tick()
    totals = [first]
    for _ in range(repeats - 1):
        totals.append(timer.timeit(number))
        tick()
    samples = [total / number for total in totals]
    return Timing(
        seconds=statistics.median(samples),
        seconds_min=min(samples),
        seconds_max=max(samples),
        repeats=repeats,
        number=number,
    )
