"""A reduce by workers on several nodes is bounded by those nodes' own limits: nodes of one
machine (two slurmd on one host) counted once, distinct machines summed; a node nobody
measured leaves the figure a reference only."""

import pandas as pd
import pytest

from outofcore.hugearray import figures as hugearray_figures
from outofcore.summary import table as summary_table
from outofcore.summary.across import worker_nodes
from outofcore.summary.headline import headline_frame
from support import ARRAYS, LIMITS

MAIN = pd.concat([LIMITS, pd.DataFrame([("host", "main", "text", "x"), ("machine", "m0", "text", "x")],
                                       columns=LIMITS.columns)])  # fmt: skip


def node(host: str, machine: str, cold: float, copy: float) -> pd.DataFrame:
    rows = [("cold_read", cold), ("warm_read", 3 * cold), ("copy_1t", copy), ("copy_2t", copy * 1.5)]
    rows = [(host, name, value, "GB/s", "x") for name, value in rows] + [
        (host, "machine", machine, "text", "x")
    ]
    return pd.DataFrame(rows, columns=["host", "name", "value", "unit", "how"])


NODES = pd.concat([node("n1", "mA", 1.0, 10.0), node("n2", "mA", 1.2, 10.0), node("n3", "mB", 2.0, 10.0)])


def summary_of(nodes: str, threads: str, value: float) -> pd.Series:
    distributed = ARRAYS[ARRAYS["size_mb"] == 64].iloc[:1].assign(
        engine="dask_distributed", worker_nodes=nodes, worker_threads=threads, workers=2,
        worker_peak_rss_mb="230;231", host="main", reduce_gbps=value)  # fmt: skip
    rows = hugearray_figures.headline(pd.concat([ARRAYS, distributed]), threads=2, cold_read=True)
    table = summary_table.summarize(MAIN, headline_frame(rows), NODES)
    return table[table["figure"].str.contains("dask_distributed")].iloc[0]


def test_nodes_of_one_machine_share_its_disk_counted_once():
    row = summary_of("n1;n2", "1;1", 3.0)
    # the store is 4x compressed: min(cold x 4, copy over both workers' 2 threads), the larger node's
    assert row["limit_value"] == pytest.approx(min(1.2 * 4, 15.0))
    assert "one machine: nodes n1, n2 share its disk" in row["limit"] and row["bound"] == "yes"
    assert row["flags"] == ""


def test_distinct_machines_add_up():
    row = summary_of("n1;n3", "1;1", 9.0)  # above either machine's own bound, under their sum
    assert row["limit_value"] == pytest.approx(min(1.0 * 4, 10.0) + min(2.0 * 4, 10.0))
    assert row["limit"].startswith("sum over 2 machines (n1; n3)")
    assert row["bound"] == "yes" and "ABOVE" not in row["flags"]


def test_a_cache_serving_one_node_of_a_machine_makes_its_bound_a_reference():
    cached = NODES.copy()
    cached.loc[(cached["host"] == "n1") & (cached["name"] == "cold_read"), "how"] = (
        "CACHED (a cache served it)"
    )
    distributed = ARRAYS[ARRAYS["size_mb"] == 64].iloc[:1].assign(
        engine="dask_distributed", worker_nodes="n1;n2", worker_threads="1;1", workers=2,
        worker_peak_rss_mb="230;231", host="main", reduce_gbps=3.0)  # fmt: skip
    rows = hugearray_figures.headline(pd.concat([ARRAYS, distributed]), threads=2, cold_read=True)
    table = summary_table.summarize(MAIN, headline_frame(rows), cached)
    row = table[table["figure"].str.contains("dask_distributed")].iloc[0]
    assert row["bound"] == "reference"  # n2's own read is not cached, but it reads the same disk


def test_a_node_nobody_measured_makes_a_reference():
    row = summary_of("n1;n9", "1;1", 1.0)
    assert row["bound"] == "reference" and "n9, whose limits nobody measured" in row["flags"]
    unknown = summary_of("n1;n3", "", 1.0)  # a table without worker_threads
    assert unknown["bound"] == "reference" and "threads are unknown" in unknown["flags"]


def test_other_rows_name_no_nodes():
    rows = hugearray_figures.headline(ARRAYS, threads=2, cold_read=True)
    assert all(row.nodes == "" for row in rows)
    assert worker_nodes(pd.Series({"nodes": "n1:2;n2:1"})) == {"n1": 2, "n2": 1}
