"""The run's headline figures, each beside the machine limit that bounds it.

Every figure comes from a stage's `headline.csv` (see `outofcore.summary.headline`) and every
limit from `limits.csv` (or measured by the stage in the same job): both measured in
this run, so the fraction of the limit reads the same on a laptop and on a cluster node.

A limit is a bound (`bound` = yes) or a reference. A figure above 1.05 of a bound means
the bound is wrong: it is flagged, never hidden. So are figures measured while other
processes kept more than 10 % of the cores busy, and figures whose samples spread more
than 15 %.
"""

import math
import re
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from outofcore.core.contention import BUSY
from outofcore.core.timing import STABLE_SPREAD
from outofcore.limits import registry as limits_registry
from outofcore.limits.node import NodeLimits, by_host
from outofcore.limits.registry import LIMITS
from outofcore.summary.across import across_nodes, worker_nodes
from outofcore.summary.headline import host_of, in_summary

COLUMNS = [
    "stage",
    "figure",
    "value",
    "unit",
    "limit",
    "limit_value",
    "fraction_of_limit",
    "bound",
    "compression_ratio",
    "spread",
    "stable",
    "others_busy",
    "flags",
    "setting",
]
ABOVE = 1.05  # a figure above this fraction of a bound: the bound is wrong
# Disk rates count stored bytes: a figure over compressed data counts more (uncompressed) bytes
DISK_RATES = tuple(name for name, entry in LIMITS.items() if entry.stored_bytes)
BANDWIDTH = re.compile(r"(copy|write|read)_(\d+)t")
limit_label = limits_registry.label  # a limit in words: the registry's


def lookup(values: dict[str, float], name: str) -> tuple[str, float]:
    """(name used, value) of a limit; a bandwidth over more threads than were measured
    falls back to the most threads measured below it (more threads than cores copy no faster)."""
    if name in values:
        return name, values[name]
    match = BANDWIDTH.fullmatch(name)
    if match:
        kind, threads = match.group(1), int(match.group(2))
        measured = [int(m.group(2)) for n in values if (m := BANDWIDTH.fullmatch(n)) and m.group(1) == kind]
        below = [t for t in measured if t <= threads]
        if below:
            used = f"{kind}_{max(below)}t"
            return used, values[used]
    raise ValueError(f"limit {name!r} is not in limits.csv")


def bound_of(item, node: NodeLimits) -> tuple[str, float, str]:
    """(limit label, limit value, yes/reference) of one headline row, read against the
    limits of the node that measured it."""
    values, cached = node.values, node.cached
    limits_registry.check_bounds(item.stage, item.limit)  # a limit bounds the stages it was chosen for
    own = not pd.isna(item.limit_value)
    name, value = (item.limit, float(item.limit_value)) if own else lookup(values, item.limit)
    label = limit_label(name)
    bound = "reference" if item.bound == "reference" or name in cached else "yes"
    ratio = float(item.compression_ratio)
    if item.limit in DISK_RATES and math.isfinite(ratio) and ratio > 1:
        copy_name, copy = lookup(values, f"copy_{int(item.threads)}t")
        label = f"min({label} x {ratio:.2f}, {limit_label(copy_name)})"
        value = min(value * ratio, copy)
    return label, value, bound


def node_of(item, nodes: dict[str, NodeLimits]) -> tuple[NodeLimits, str]:
    """The limits of the node a figure was measured on, and a flag when nobody measured
    that node's: the limits job's node then stands in, as a reference only."""
    host = host_of(item)
    if host in nodes or not nodes[""].host:  # limits naming no node: taken as every job's
        return nodes.get(host, nodes[""]), ""
    return nodes[""], f"measured on {host}, limits of {nodes[''].host}: another node"


def flags(fraction: float, bound: str, spread: float, others_busy: float) -> str:
    notes = []
    if bound == "yes" and fraction > ABOVE:
        notes.append(f"ABOVE ITS BOUND ({fraction:.2f}x): the bound is wrong")
    if others_busy > BUSY:
        notes.append(f"shared machine: others kept {others_busy:.0%} of the cores busy")
    if spread > STABLE_SPREAD:
        notes.append(f"unstable: samples spread {spread:.0%}")
    return "; ".join(notes)


def summarize(
    limits: pd.DataFrame,
    headlines: pd.DataFrame,
    nodes: pd.DataFrame | None = None,
    candidates: bool = False,
) -> pd.DataFrame:
    """The summary table: every stage's headline figure with the value of its limit (from
    `limits.csv`, from `nodes` (limits the jobs measured on other nodes, see
    `outofcore.limits.node`) for a figure measured on another node, or measured by the
    stage itself), the fraction, and its flags. The rows that are decision candidates
    only (`summary` false) are left out unless `candidates`."""
    if not candidates:
        headlines = headlines[in_summary(headlines)]
    known = by_host(limits, nodes)
    rows = []
    for item in headlines.itertuples(index=False):
        node, elsewhere = node_of(item, known)
        try:
            if worker_nodes(item):  # workers on other nodes computed it: their limits bound it
                label, limit_value, bound, elsewhere = across_nodes(item, known, bound_of)
            else:
                label, limit_value, bound = bound_of(item, node)
        except ValueError as error:
            raise ValueError(f"{item.stage}: {error}") from None
        if elsewhere:
            bound = "reference"
        elif node is not known[""] and not worker_nodes(item):
            label = f"{label} on {node.host}"
        fraction = float(item.value) / limit_value
        spread, busy = float(item.spread), float(item.others_busy)
        rows.append(
            {
                "stage": item.stage,
                "figure": item.figure,
                "value": float(item.value),
                "unit": item.unit,
                "limit": label,
                "limit_value": limit_value,
                "fraction_of_limit": fraction,
                "bound": bound,
                "compression_ratio": float(item.compression_ratio),
                "spread": spread,
                "stable": bool(spread <= STABLE_SPREAD) if math.isfinite(spread) else pd.NA,
                "others_busy": busy,
                "flags": "; ".join(filter(None, [flags(fraction, bound, spread, busy), elsewhere])),
                "setting": getattr(item, "setting", "pipeline"),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def above_bound(summary: pd.DataFrame) -> pd.DataFrame:
    """The rows whose figure exceeds its bound by more than 5 %."""
    return summary[(summary["bound"] == "yes") & (summary["fraction_of_limit"] > ABOVE)]


REFERENCE = {"reference": " (reference)"}


def plot_fractions(summary: pd.DataFrame) -> Figure:
    """Horizontal bars: every figure as a fraction of its limit (1 = the machine's limit).

    A reference limit's bar is hatched; a figure above its bound is outlined in red and
    labelled; a figure from a shared machine or with spread samples is marked `*`.
    """
    fig, ax = plt.subplots(figsize=(12, 0.8 * len(summary) + 2.2), layout="constrained")  # 3-4 lines a bar
    labels = [  # wrapped: long figure names would leave the bars a sliver of the width
        textwrap.fill(f"{s}: {f}", 58) + "\n" + textwrap.fill(f"vs {lim}" + REFERENCE.get(b, ""), 58)
        for s, f, lim, b in summary[["stage", "figure", "limit", "bound"]].itertuples(index=False)
    ]
    colors = summary["stage"].map({"particles": "C0", "blosc": "C1", "hugearray": "C2"}).fillna("C7")
    # a reference is no ceiling: its bar is pale and hatched, never read as a broken limit
    colors = [("lightgray" if b == "reference" else c) for c, b in zip(colors, summary["bound"], strict=True)]
    bars = ax.barh(range(len(summary)), summary["fraction_of_limit"], color=colors, height=0.7)
    above = set(above_bound(summary).index)
    for i, (bar, row) in enumerate(zip(bars, summary.itertuples(index=False), strict=True)):
        if row.bound == "reference":
            bar.set_hatch("//")
        mark = " *" if isinstance(row.flags, str) and row.flags else ""
        if summary.index[i] in above:
            bar.set_edgecolor("red")
            bar.set_linewidth(2)
            ax.text(bar.get_width(), i, f" ABOVE BOUND {bar.get_width():.2f}x", va="center", color="red")
        else:
            ax.text(bar.get_width(), i, f" {bar.get_width():.2f}{mark}", va="center", fontsize=8)
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1, label="the machine's limit")
    ax.set_yticks(range(len(summary)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(
        "fraction of the limit (value / limit, both measured in this run)\n"
        "pale, hatched: a reference only, not a ceiling; *: shared machine or spread samples (flags)",
        fontsize=9,
    )
    ax.set_title("Every headline figure beside the machine limit that bounds it")
    fig.legend(loc="outside lower center")  # below the axes: it never hides a bar
    return fig


HEADLINE_COLUMNS = ["stage", "figure", "value", "unit", "limit", "fraction_of_limit", "bound", "others_busy"]


def headline_text(summary: pd.DataFrame) -> str:
    """The summary as a plain-text table for a terminal: each figure, its limit, the
    fraction, and the share of the cores other processes kept busy while it was timed."""
    table = summary[HEADLINE_COLUMNS].copy()
    table["value"] = table["value"].map(lambda v: f"{v:.3g}")
    table["fraction_of_limit"] = table["fraction_of_limit"].map(lambda v: f"{v:.2f}")
    table["others_busy"] = table["others_busy"].map(lambda v: "?" if pd.isna(v) else f"{v:.0%}")
    table = table.rename(columns={"fraction_of_limit": "fraction"})
    for column in ("stage", "figure", "limit", "bound"):  # text reads left-aligned
        width = int(table[column].astype(str).str.len().max()) if len(table) else 0
        table[column] = table[column].astype(str).str.ljust(width)
    busy = summary["others_busy"].dropna()
    contention = (
        f"other processes kept {busy.min():.0%}-{busy.max():.0%} of the cores busy while the jobs timed"
        if len(busy)
        else "contention unknown (no job logged it)"
    )
    return f"{table.to_string(index=False, justify='left')}\n\n{contention}"
