"""The shared timing helper: autoranging and the reported statistics."""

import math
import time

import pandas as pd
import pytest

from outofcore.core.timing import (
    Point,
    Timing,
    calibrate,
    measure,
    measure_interleaved,
    spread_of_parts,
    stable_flags,
)


def test_tiny_calls_are_looped_until_min_time():
    calls = []
    result = measure(lambda: calls.append(1), repeats=3, min_time=0.01)
    assert result.number > 100  # a list append lasts far less than 10 ms
    assert result.repeats == 3
    assert result.seconds_min <= result.seconds <= result.seconds_max
    assert result.seconds * result.number < 1.0


def test_slow_calls_are_timed_once_per_sample():
    result = measure(lambda: time.sleep(0.03), repeats=2, min_time=0.02)
    assert result.number == 1
    assert result.seconds == pytest.approx(0.03, abs=0.03)
    assert result.rate(3.0) == pytest.approx(3.0 / result.seconds)


def test_setup_runs_outside_the_timed_region():
    result = measure(lambda: None, repeats=2, min_time=0.001, setup=lambda: time.sleep(0.01))
    assert result.seconds < 0.005


def test_slow_call_runs_exactly_repeats_times():
    calls = []
    result = measure(lambda: (calls.append(1), time.sleep(0.03)), repeats=3, min_time=0.02)
    assert result.number == 1 and len(calls) == 3  # calibration counted as a sample


class SteadyTimer:
    """A timeit.Timer whose calls take exactly `per_call` seconds: calibration without the
    machine's load in it."""

    def __init__(self, per_call: float):
        self.per_call, self.trials = per_call, []

    def timeit(self, number: int) -> float:
        self.trials.append(number)
        return number * self.per_call


def test_sample_size_scales_from_the_measured_time():
    timer = SteadyTimer(0.001)
    number, elapsed = calibrate(timer, min_time=0.02)
    assert number == 24 and elapsed >= 0.02  # 20 % past 20 ms, from the first trial's time
    assert timer.trials == [1, 24]  # scaled at once, not doubled five times


def test_calibration_doubles_at_least_and_scales_at_most_a_thousandfold():
    assert calibrate(SteadyTimer(0.015), min_time=0.02) == (2, 0.03)  # x1.6 rounds to doubling
    fast = SteadyTimer(1e-9)
    number, _ = calibrate(fast, min_time=0.02)
    assert fast.trials[:2] == [1, 1000] and number * 1e-9 >= 0.02


def test_a_real_sample_lasts_at_least_min_time():
    result = measure(lambda: time.sleep(0.001), repeats=2, min_time=0.02)
    assert 1 <= result.number <= 64  # never far past the time needed, however loaded the machine
    # a sleep never returns early, so every sample's time per call is at least the sleep
    # (that the loop lasts min_time holds for the calibration, which a loaded machine may
    # lengthen: it is tested on a timer of known speed above)
    assert result.seconds_min >= 0.001 and result.seconds >= 0.001


def test_spread_and_stable():
    steady = Timing(1.0, 0.95, 1.05, 3, 1)
    assert steady.spread == pytest.approx(0.1) and steady.stable
    noisy = Timing(1.0, 0.9, 1.2, 3, 1)
    assert noisy.spread == pytest.approx(0.3) and not noisy.stable
    single = Timing(1.0, 1.0, 1.0, 1, 1)
    assert math.isnan(single.spread) and not single.stable  # one sample: steadiness unknown


def test_interleaved_rounds_take_one_sample_of_every_point_per_round():
    order = []
    points = {
        name: Point(lambda name=name: order.append(name),
                    setup=lambda name=name: order.append(f"setup {name}"), min_time=0)
        for name in ("a", "b")
    }  # fmt: skip
    result = measure_interleaved(points, repeats=3)
    assert set(result) == {"a", "b"} and all(t.repeats == 3 and t.number == 1 for t in result.values())
    calls = [item for item in order if not item.startswith("setup")]
    assert calls == ["a", "b", "a", "b", "a", "b"]  # calibration, then two rounds over both


def test_a_slow_spell_hits_every_interleaved_point():
    """A pause during one round slows one sample of each point, so no median moves."""
    state = {"calls": 0}

    def slow_third_round() -> None:
        state["calls"] += 1
        time.sleep(0.02 if 5 <= state["calls"] <= 6 else 0.002)

    result = measure_interleaved({k: Point(slow_third_round, min_time=0) for k in "ab"}, repeats=5)
    for timing in result.values():
        assert timing.seconds < 0.01 and timing.seconds_max > 0.015 and not timing.stable


def test_spread_of_a_pass_compares_its_quarters():
    assert spread_of_parts([1.0] * 8) == 0.0
    assert spread_of_parts([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0]) == pytest.approx((4 - 2) / 2)
    assert math.isnan(spread_of_parts([1.0]))  # one sample: no spread
    assert spread_of_parts([1.0, 3.0]) == pytest.approx(2 / 2)  # fewer pieces than quarters


def test_stable_flags_read_back_from_any_csv(tmp_path):
    pd.DataFrame({"stable": [True, False, True]}).to_csv(tmp_path / "a.csv", index=False)
    read = pd.read_csv(tmp_path / "a.csv", keep_default_na=False, dtype=str)  # "True" / "False"
    assert stable_flags(read).tolist() == [True, False, True]
    assert stable_flags(pd.DataFrame({"stable": ["true", "", "FALSE"]})).tolist() == [True, False, False]
    assert stable_flags(pd.DataFrame({"seconds": [1.0, 2.0]})).tolist() == [True, True]  # no column
