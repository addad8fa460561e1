"""The run's headline figures, each beside the machine limit that bounds it.

Every figure comes from a stage's own output and every limit from `limits.csv` (or, for
the table fill, `np.save` timed in the same job): both measured in this run, so the
fraction of the limit reads the same on a laptop and on a cluster node.
"""

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

COLUMNS = ["stage", "figure", "value", "unit", "limit", "limit_value", "fraction_of_limit"]
GB = 1e9
PARTICLE_BYTES = 36  # one Particle record: name 16 + idnumber 8 + pressure 4 + energy 8
SAFE_BLOSC = ("compress_ptr", "blosc2")

LIMIT_NAMES = {
    "memcpy": "memory copy (np.copyto)",
    "page_cache_write": "page-cache write",
    "warm_read": "warm read (page cache)",
    "cold_read": "cold read (device)",
}


def limit_values(limits: pd.DataFrame) -> dict[str, float]:
    rows = limits[limits["unit"] == "GB/s"]
    return {name: float(value) for name, value in zip(rows["name"], rows["value"], strict=True)}


def row(stage: str, figure: str, gbps: float, limit: str, limit_gbps: float) -> dict[str, Any]:
    return {
        "stage": stage,
        "figure": figure,
        "value": gbps,
        "unit": "GB/s",
        "limit": limit,
        "limit_value": limit_gbps,
        "fraction_of_limit": gbps / limit_gbps,
    }


def particles_figures(timings: pd.DataFrame, limits: dict[str, float]) -> list[dict[str, Any]]:
    """Block fill against np.save of the same array in the same job (same size, same file
    system: a fairer bound than a probe file of another size); in-kernel query against warm read."""
    by = timings.set_index(["step", "method"])
    nrows = int(by.loc[("fill", "block"), "rows"])
    fill = by.loc[("fill", "block"), "rows_per_s"] * PARTICLE_BYTES / GB
    save = by.loc[("fill", "limit"), "rows_per_s"] * PARTICLE_BYTES / GB
    scan = by.loc[("query", "where"), "rows_per_s"] * PARTICLE_BYTES / GB
    where = f"{nrows:,} rows"
    return [
        row("particles", f"table fill, block appends ({where})", fill, "np.save of the same array", save),
        row("particles", f"in-kernel where query ({where} scanned)", scan, LIMIT_NAMES["warm_read"],
            limits["warm_read"]),
    ]  # fmt: skip


def blosc_figures(sweep: pd.DataFrame, limits: dict[str, float]) -> list[dict[str, Any]]:
    """Best pickle-free codec and the tutorial's pack_array at the largest size, against memcpy."""
    points = sweep[sweep["operation"].isin(["compress", "decompress"])]
    size, threads = points["size"].max(), points["threads"].max()
    points = points[(points["size"] == size) & (points["threads"] == threads)]
    figures = []
    for operation in ("compress", "decompress"):
        here = points[points["operation"] == operation]
        for label, subset in (("best pickle-free", here[here["method"].isin(SAFE_BLOSC)]),
                              ("pack_array (tutorial)", here[here["method"] == "pack_array"])):  # fmt: skip
            if subset.empty:
                continue
            best = subset.loc[subset["gbps"].idxmax()]
            figure = f"{operation}, {label} {best['method']}/{best['codec']} (n={size:,}, {threads} threads)"
            figures.append(row("blosc", figure, best["gbps"], LIMIT_NAMES["memcpy"], limits["memcpy"]))
    return figures


def hugearray_figures(
    arrays: pd.DataFrame, limits: dict[str, float], cold: bool = False
) -> list[dict[str, Any]]:
    """Each backend's write and out-of-core reduce at the largest size; the reduce against
    cold read when the stage evicted its file from the page cache first, else warm read."""
    read = "cold_read" if cold else "warm_read"
    largest = arrays[arrays["size_mb"] == arrays["size_mb"].max()]
    figures = []
    for item in largest.itertuples():
        where = f"{item.backend}, {item.size_mb} MB, {item.compression}"
        figures.append(
            row(
                "hugearray",
                f"write ({where})",
                item.write_gbps,
                LIMIT_NAMES["page_cache_write"],
                limits["page_cache_write"],
            )
        )
        figures.append(row("hugearray", f"out-of-core reduce ({where})", item.reduce_gbps,
                           LIMIT_NAMES[read], limits[read]))  # fmt: skip
    return figures


def summarize(
    limits: pd.DataFrame,
    particle_timings: Sequence[pd.DataFrame] = (),
    blosc_sweep: pd.DataFrame | None = None,
    hugearrays: Sequence[pd.DataFrame] = (),
    hugearray_cold: bool = False,
) -> pd.DataFrame:
    """The summary table: one row per headline figure with its limit and the fraction."""
    values = limit_values(limits)
    rows: list[dict[str, Any]] = []
    if particle_timings:  # the largest table says most about throughput
        rows += particles_figures(max(particle_timings, key=lambda t: t["rows"].max()), values)
    if blosc_sweep is not None:
        rows += blosc_figures(blosc_sweep, values)
    if hugearrays:
        rows += hugearray_figures(pd.concat(hugearrays, ignore_index=True), values, hugearray_cold)
    return pd.DataFrame(rows, columns=COLUMNS)


def plot_fractions(summary: pd.DataFrame) -> Figure:
    """Horizontal bars: every figure as a fraction of its limit (1 = the machine's limit)."""
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(summary) + 1.6), layout="constrained")
    labels = [
        f"{s}: {f}\n  vs {lim}" for s, f, lim in summary[["stage", "figure", "limit"]].itertuples(False)
    ]
    colors = summary["stage"].map({"particles": "C0", "blosc": "C1", "hugearray": "C2"}).fillna("C7")
    ax.barh(range(len(summary)), summary["fraction_of_limit"], color=colors)
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1, label="the machine's limit")
    ax.set_yticks(range(len(summary)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("fraction of the limit (value / limit, both measured in this run)")
    ax.set_title("Every headline figure beside the machine limit that bounds it")
    ax.legend(loc="lower right")
    return fig
