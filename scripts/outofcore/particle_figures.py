"""Query time against table size, one line per method (log-log), from every timings.csv."""

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from outofcore.headline import GB, Headline
from outofcore.plan.sizing import PARTICLE_BYTES

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
    fig, ax = plt.subplots(figsize=(10, 5.5), layout="constrained")
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
    sizes = sorted(timings["rows"].unique())
    if len(sizes) < 4:  # few sizes: straight lines between them are not measurements
        ax.text(0.01, 0.01, f"only {len(sizes)} table size(s) measured: lines join measured points only",
                transform=ax.transAxes, fontsize=9, color="dimgray")  # fmt: skip
    fig.legend(loc="outside right upper")  # beside the axes: it never hides a line
    return fig


def headline(tables: Sequence[pd.DataFrame], threads: int) -> list[Headline]:
    """From the largest table (it says most about throughput): the block fill and the
    tutorial's row-by-row fill against `np.save` of the same records in the same job; the
    in-kernel `where` scan and the tutorial's `iterrows` against warm-read bandwidth."""
    timings = max(tables, key=lambda t: t["rows"].max())
    by = timings.set_index(["step", "method"])
    nrows = int(by.loc[("fill", "block"), "rows"])

    def gbps(step: str, method: str) -> float:
        return float(by.loc[(step, method), "rows_per_s"]) * PARTICLE_BYTES / GB

    where = f"{nrows:,} rows"
    save = "np.save of the same array"
    rows = [
        Headline("particles", "store a table", "block appends", f"table fill, block appends ({where})",
                 gbps("fill", "block"), "GB/s", save, 1, limit_value=gbps("fill", "limit")),
        Headline("particles", "store a table", "row by row", f"table fill, row by row ({where})",
                 gbps("fill", "row"), "GB/s", save, 1, limit_value=gbps("fill", "limit"), tutorial=True),
        Headline("particles", "query a table", "where", f"in-kernel where query ({where} scanned)",
                 gbps("query", "where"), "GB/s", "warm_read", threads),
        Headline("particles", "query a table", "iterrows", f"iterrows query ({where} scanned)",
                 gbps("query", "iterrows"), "GB/s", "warm_read", 1, tutorial=True),
    ]  # fmt: skip
    return rows
