"""Query time against table size, one line per method (log-log), from every timings.csv."""

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

# The query methods in the order of the legend; `read` (a full table.read(), what any
# scan costs at least) and the index build are drawn as references.
METHODS = ["iterrows", "pandas", "read_where", "where", "numpy", "indexed"]
REFERENCES = {"read": "--", "create_csindex": ":"}


def query_timings(paths: Sequence[str | Path]) -> pd.DataFrame:
    frames = [pd.read_csv(path) for path in paths]
    timings = pd.concat(frames, ignore_index=True)
    return timings[timings["step"] == "query"].sort_values(["method", "rows"])


def plot_query_time(timings: pd.DataFrame, query: str) -> Figure:
    """Median seconds per query against rows; bars from the fastest to the slowest sample."""
    fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
    methods = [m for m in METHODS if m in set(timings["method"])]
    methods += [m for m in REFERENCES if m in set(timings["method"])]
    for method in methods:
        rows = timings[timings["method"] == method]
        label = {"read": "table.read() (reference)", "create_csindex": "index build (create_csindex)"}
        ax.errorbar(
            rows["rows"],
            rows["seconds"],
            yerr=[rows["seconds"] - rows["seconds_min"], rows["seconds_max"] - rows["seconds"]],
            marker="o",
            linestyle=REFERENCES.get(method, "-"),
            capsize=3,
            label=label.get(method, method),
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows in the table")
    ax.set_ylabel("time per query (s, median)")
    ax.set_title(f"PyTables particle table: query time\n{query}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return fig
