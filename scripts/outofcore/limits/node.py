"""The limits of the node a timed job ran on, when it is not the node of the `limits` job.

On one machine every job runs where `limits` ran. On a cluster each job may land on
another node, with its own memory and disk: a figure read against another node's limits
means nothing. So a timed job whose host is not the `host` of `limits.csv` measures, on
its own node and while it holds the timing lock, the limits its figures are read against
(`host,name,value,unit,how`); the stage's gathering job collects these tables, and the
summary reads every figure against the limits of the node that measured it. A figure
from a node whose limits nobody measured is shown as a reference, never as bounded.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from outofcore.core.files import write_csv
from outofcore.limits.machine import CACHED, HOST, MACHINE, disk_rows, memory_rows, this_host, this_machine
from outofcore.limits.machine import COLUMNS as LIMIT_COLUMNS
from outofcore.limits.registry import row

COLUMNS = [HOST, *LIMIT_COLUMNS]


def limits_host(limits: pd.DataFrame) -> str:
    """The node `limits.csv` was measured on ("" in a file without a host row)."""
    rows = limits.loc[limits["name"] == HOST, "value"]
    return str(rows.iloc[0]) if len(rows) else ""


def measure_here(
    limits_csv: str | Path, results_dir: str | Path, memcpy_mb: int, disk_mb: int, repeats: int, threads: int
) -> pd.DataFrame:
    """This node's limits (memory over 1 and `threads` threads, the results' disk), or no
    rows when the limits job ran on this node (or its file names no node)."""
    here, there = this_host(), limits_host(pd.read_csv(limits_csv))
    if there in ("", here):
        return pd.DataFrame(columns=COLUMNS)
    return node_rows(here, results_dir, memcpy_mb, disk_mb, repeats, [threads])


def node_rows(
    host: str, results_dir: str | Path, memcpy_mb: int, disk_mb: int, repeats: int, threads: Iterable[int]
) -> pd.DataFrame:
    """The limits of the node this runs on, under the name `host`: memory over 1 and each of
    `threads` threads, the disk of `results_dir`, and the machine it is (`this_machine`)."""
    rows = memory_rows(memcpy_mb, sorted({1, *threads}), repeats) + disk_rows(results_dir, disk_mb, repeats)
    rows.append(row(MACHINE, this_machine()))
    frame = pd.DataFrame(rows, columns=LIMIT_COLUMNS)
    frame.insert(0, HOST, host)
    return frame


def write_node_limits(frame: pd.DataFrame, path: str | Path) -> None:
    write_csv(frame[COLUMNS], path)


def collect(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Every job's node limits in one table, one set per node (the first job's on a node)."""
    frames = [frame for path in paths if not (frame := pd.read_csv(path, dtype={HOST: str})).empty]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    return table.drop_duplicates([HOST, "name"], keep="first")[COLUMNS]


@dataclass(frozen=True)
class NodeLimits:
    """Limit values (GB/s) by name, the names a cache served, the node they are of and its
    machine ("" where the limits do not say)."""

    host: str
    values: dict[str, float] = field(default_factory=dict)
    cached: set[str] = field(default_factory=set)
    machine: str = ""

    @classmethod
    def of(cls, host: str, limits: pd.DataFrame) -> "NodeLimits":
        rates = limits[limits["unit"] == "GB/s"]
        values = {str(name): float(value) for name, value in zip(rates["name"], rates["value"], strict=True)}
        cached = set(limits.loc[limits["how"].astype(str).str.startswith(CACHED), "name"])
        machine = limits.loc[limits["name"] == MACHINE, "value"]
        found = machine.iloc[0] if len(machine) else ""
        return cls(host, values, cached, "" if pd.isna(found) else str(found))


def by_host(limits: pd.DataFrame, nodes: pd.DataFrame | None = None) -> dict[str, NodeLimits]:
    """The limits of every node measured: the limits job's (also under "", the node of
    figures that name none) and each other node's, from the jobs that ran there."""
    main = NodeLimits.of(limits_host(limits), limits)
    found = {"": main, main.host: main}
    if nodes is not None:
        for host, rows in nodes.groupby(HOST):
            found.setdefault(str(host), NodeLimits.of(str(host), rows))
    return found
