"""The limit registry: every row the limits job writes is a registered limit with its
unit, every headline figure of every stage is set against a limit that names its stage,
and the summary labels limits from it."""

import pandas as pd
import pytest

from conftest import REPO
from outofcore.blosc import figures as blosc_figures
from outofcore.hugearray import figures as hugearray_figures
from outofcore.limits import registry
from outofcore.limits.registry import LIMITS
from outofcore.particles import figures as particle_figures
from outofcore.summary import table as summary_table
from outofcore.summary.headline import headline_frame
from support import ARRAYS, SWEEP, timings
from support import LIMITS as LIMITS_CSV


def test_every_row_of_the_reference_limits_is_registered_with_its_unit():
    reference = pd.read_csv(REPO / "docs" / "reference" / "limits.csv")
    for name, unit in zip(reference["name"], reference["unit"], strict=True):
        assert registry.get_limit(name).unit == unit, name


def test_every_stages_headline_limit_bounds_that_stage():
    rows = headline_frame(
        [
            *particle_figures.headline([timings(1000, 4e7, full=True)], threads=2),
            *blosc_figures.headline(SWEEP),
            *hugearray_figures.headline(ARRAYS, threads=2, cold_read=True),
            *hugearray_figures.headline(ARRAYS, threads=2, cold_read=False),
        ]
    )
    used = set()
    for stage, limit in zip(rows["stage"], rows["limit"], strict=True):
        registry.check_bounds(stage, limit)  # raises if not
        if registry.match(limit):
            used.add((stage, registry.get_limit(limit).name))
    assert {("particles", "warm_read"), ("blosc", "read_{T}t"), ("hugearray", "durable_write")} <= used
    for stage, name in used:
        assert stage in LIMITS[name].bounds and LIMITS[name].figures


def test_a_limit_set_for_another_stage_is_refused_by_the_summary():
    rows = headline_frame(hugearray_figures.headline(ARRAYS, threads=2, cold_read=True))
    rows.loc[0, "stage"] = "blosc"
    with pytest.raises(ValueError, match=r"blosc: limit \w+ is registered to bound hugearray, not blosc"):
        summary_table.summarize(LIMITS_CSV, rows)


@pytest.mark.parametrize(
    "name, label",
    [
        ("copy_2t", "memory copy, 2 threads (copy_2t)"),
        ("read_1t", "memory read, 1 thread (read_1t)"),
        ("memcpy", "memory copy (np.copyto, 1 thread)"),
        ("cold_read", "cold read (device)"),
        ("np.save of the same array", "np.save of the same array"),  # a stage's own: itself
    ],
)
def test_summary_labels_come_from_the_registry(name, label):
    assert summary_table.limit_label(name) == registry.label(name) == label


def test_disk_rates_are_the_registered_stored_byte_limits():
    assert set(summary_table.DISK_RATES) == {"cold_read", "warm_read", "durable_write", "page_cache_write"}
    with pytest.raises(ValueError, match=r"'disk_speed' is not in outofcore\.limits\.registry"):
        registry.get_limit("disk_speed")


def test_docs_list_every_limit():
    docs = (REPO / "docs" / "extending.md").read_text()
    assert "limits/registry.py" in docs
    for name, entry in LIMITS.items():
        if entry.bounds:
            assert f"`{name}`" in docs, f"limit {name} not in docs/extending.md"
