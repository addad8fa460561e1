"""The shared timing helper: autoranging and the reported statistics."""

import time

import pytest

from outofcore.timing import measure


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


def test_sample_size_scales_from_the_measured_time():
    calls = []
    result = measure(lambda: (calls.append(1), time.sleep(0.001)), repeats=2, min_time=0.02)
    assert 10 <= result.number <= 64  # ~20 calls reach 20 ms; no overshoot by doubling far past it
    assert result.seconds * result.number >= 0.02
