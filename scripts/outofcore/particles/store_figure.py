"""The particle stage's second figure: the stores side by side at the largest table, each
writer at each of its settings (write throughput, np.save as the limit) and each engine's
query time, per row order."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from outofcore.particles.bench import with_settings
from outofcore.particles.figures import ORDERS
from outofcore.particles.formats.registry import FORMATS
from outofcore.plan.sizing import PARTICLE_BYTES
from outofcore.plan.units import MB

WRITES = {  # (format, method, setting) -> label
    ("raw", "page_cache", "default"): "page-cache write (the bound)",
    ("npy", "limit", "default"): "np.save (reference)",
    ("pytables", "append", "default"): "PyTables table.append (as typed)",
    ("pytables", "block", "tuned"): "PyTables block append (tuned)",
    ("pytables", "chunks", "pipeline"): "PyTables direct chunk writes (pipeline)",
    **{(entry.name, w.method, w.setting): w.label for entry in FORMATS.values() for w in entry.writers},
}
QUERIES = {
    ("pytables", "where", "pipeline"): "PyTables where",
    ("pytables", "indexed", "tuned"): "PyTables indexed where",
    **{
        (entry.name, engine.name, entry.output.setting): engine.label
        for entry in FORMATS.values()
        for engine in entry.engines
    },
}


def _bars(ax: plt.Axes, frame: pd.DataFrame, kinds: dict[tuple[str, str, str], str], value: str) -> None:
    """Grouped bars: one group per (format, method, setting) present, one bar per row order."""

    def rows_of(kind: tuple[str, str, str]) -> pd.Series:
        return (frame["format"] == kind[0]) & (frame["method"] == kind[1]) & (frame["setting"] == kind[2])

    kinds = {k: v for k, v in kinds.items() if rows_of(k).any()}
    orders = [o for o in ORDERS if o in set(frame["order"])]
    width = 0.8 / max(1, len(orders))
    for i, order in enumerate(orders):
        heights = []
        for kind in kinds:
            row = frame[rows_of(kind) & (frame["order"] == order)]
            heights.append(float(row[value].iloc[0]) if len(row) else float("nan"))
        positions = [k + (i - (len(orders) - 1) / 2) * width for k in range(len(kinds))]
        bars = ax.bar(positions, heights, width, label=f"{order} rows", color=f"C{i}")
        # a log axis hides the values: each bar says its own, 3 significant digits
        ax.bar_label(bars, labels=[f"{h:.3g}" if h == h else "" for h in heights], fontsize=7, rotation=90,
                     padding=2)  # fmt: skip
    ax.set_xticks(range(len(kinds)), list(kinds.values()), rotation=30, ha="right")
    ax.set_yscale("log")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the bars, never over them


def plot_formats(timings: pd.DataFrame, query: str) -> Figure:
    """At the largest table: write throughput of each store (np.save as the limit) and
    the query time of each engine, per row order, log scale."""
    nrows = int(timings["rows"].max())
    largest = with_settings(timings[timings["rows"] == nrows])
    fig, (write_ax, query_ax) = plt.subplots(1, 2, figsize=(15, 6), layout="constrained")
    writes = largest[largest["step"] == "fill"].assign(mbps=lambda t: t["rows_per_s"] * PARTICLE_BYTES / MB)
    _bars(write_ax, writes, WRITES, "mbps")
    write_ax.set_ylabel("write throughput (MB/s of records, median)")
    write_ax.set_title(f"writing {nrows:,} rows")
    _bars(query_ax, largest[largest["step"] == "query"], QUERIES, "seconds")
    query_ax.set_ylabel("time per query (s, median)")
    query_ax.set_title(f"querying {nrows:,} rows: {query}", parse_math=False)
    fig.suptitle(f"Particle table: PyTables, {', '.join(entry.title for entry in FORMATS.values())}")
    return fig
