"""Limits per node: a figure measured on another node than the limits job's is read
against that node's own limits, or shown as a reference when nobody measured them."""

import pandas as pd
import pytest

from outofcore.hugearray import figures as hugearray_figures
from outofcore.limits import node as node_limits
from outofcore.particles import figures as particle_figures
from outofcore.summary import table as summary_table
from outofcore.summary.headline import headline_frame
from support import ARRAYS, LIMITS, timings


def with_host(host: str) -> pd.DataFrame:
    row = pd.DataFrame([{"name": "host", "value": host, "unit": "text", "how": "socket.gethostname()"}])
    return pd.concat([LIMITS, row], ignore_index=True)


HERE = with_host("node-a")  # the limits job ran on node-a


def on(host: str) -> pd.DataFrame:
    """The huge-array headline rows as measured on `host`."""
    arrays = ARRAYS.assign(host=host)
    return headline_frame(hugearray_figures.headline(arrays, threads=2, cold_read=True))


def node_b(scale: float) -> pd.DataFrame:
    """node-b's limits: node-a's disk and memory rates times `scale`."""
    rates = HERE[HERE["unit"] == "GB/s"].assign(value=lambda f: f["value"].astype(float) * scale)
    return rates.assign(host="node-b")[node_limits.COLUMNS]


def test_a_job_on_the_limits_node_measures_nothing(tmp_path):
    limits = tmp_path / "limits.csv"
    with_host(node_limits.this_host()).to_csv(limits, index=False)
    assert node_limits.measure_here(limits, tmp_path, 16, 8, 1, threads=2).empty
    LIMITS.to_csv(limits, index=False)  # no host named: the same node
    assert node_limits.measure_here(limits, tmp_path, 16, 8, 1, threads=2).empty


def test_a_job_on_another_node_measures_that_node(tmp_path):
    limits = tmp_path / "limits.csv"
    HERE.to_csv(limits, index=False)
    frame = node_limits.measure_here(limits, tmp_path / "disk", 16, 8, 1, threads=2)
    assert set(frame["host"]) == {node_limits.this_host()}
    assert {"copy_1t", "copy_2t", "durable_write", "warm_read", "cold_read"} <= set(frame["name"])
    assert (frame.loc[frame["unit"] == "GB/s", "value"].astype(float) > 0).all()
    node_limits.write_node_limits(frame, tmp_path / "a.csv")
    node_limits.write_node_limits(frame.iloc[:0], tmp_path / "b.csv")
    both = node_limits.collect([tmp_path / "b.csv", tmp_path / "a.csv", tmp_path / "a.csv"])
    assert len(both) == len(frame)  # one set per node
    assert list((tmp_path / "disk").iterdir()) == []  # the probe file removed


def test_each_figure_is_read_against_its_own_nodes_limits():
    at_a = summary_table.summarize(HERE, on("node-a"))
    at_b = summary_table.summarize(HERE, on("node-b"), node_b(scale=2.0))
    assert at_b["limit_value"].tolist() == pytest.approx((at_a["limit_value"] * 2).tolist())
    assert at_b["limit"].str.endswith("on node-b").all() and not at_a["limit"].str.contains("node").any()
    assert (at_b["bound"] == "yes").all() and (at_b["flags"] == "").all()


def test_a_figure_from_an_unmeasured_node_is_a_reference_only():
    table = summary_table.summarize(HERE, on("node-c"), node_b(scale=2.0))
    assert (table["bound"] == "reference").all()
    assert table["flags"].str.contains("measured on node-c, limits of node-a").all()


def test_limits_naming_no_node_are_every_jobs():
    table = summary_table.summarize(LIMITS, on("node-c"))  # a limits.csv older than its host row
    assert (table["bound"] == "yes").all() and not table["flags"].str.contains("another node").any()


def test_particle_figures_name_their_node():
    rows = headline_frame(particle_figures.headline([timings(1000, 4e7).assign(host="node-c")], threads=2))
    assert set(rows["host"]) == {"node-c"}
    table = summary_table.summarize(HERE, rows)  # nobody measured node-c's limits
    assert (table["bound"] == "reference").all() and table["flags"].str.contains("measured on node-c").all()
