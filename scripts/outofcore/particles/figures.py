"""The particle stage's figures from every timings.csv: query time against table size per
method (log-log), the stores side by side (write throughput, query time), the headline."""

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from outofcore.core.timing import stable_flags
from outofcore.particles.bench import configured, with_settings
from outofcore.particles.formats.registry import FORMATS

# The query methods in the order of the legend; `read` (a full table.read(), what any
# scan costs at least) and the index build are drawn as references.
METHODS = ["iterrows", "pandas", "pandas_bytes", "read_where", "where", "numpy", "indexed"]
ENGINES = [engine.name for entry in FORMATS.values() for engine in entry.engines]  # the other stores'
REFERENCES = {"read": "--", "create_csindex": ":"}
LABELS = {
    "read": "table.read() (reference)",
    "create_csindex": "index build (create_csindex)",
    "pandas": "pandas (read_hdf, names as str)",
    "pandas_bytes": "pandas (table.read(), names as bytes)",
    **{engine.name: engine.legend for entry in FORMATS.values() for engine in entry.engines},
}
ORDERS = ["sorted", "shuffled"]


def all_timings(paths: Sequence[str | Path]) -> pd.DataFrame:
    """The fills and the configured query of every table (the shares of the rows apart)."""
    return pd.concat([configured(with_settings(pd.read_csv(path))) for path in paths], ignore_index=True)


def query_timings(paths: Sequence[str | Path]) -> pd.DataFrame:
    timings = all_timings(paths)
    return timings[timings["step"] == "query"].sort_values(["method", "rows"])


def plot_query_time(timings: pd.DataFrame, query: str) -> Figure:
    """Median seconds per query against rows, one panel per row order; bars from the
    fastest to the slowest sample."""
    orders = [o for o in ORDERS if o in set(timings["order"])]
    fig, axes = plt.subplots(
        1, len(orders), figsize=(7 * len(orders), 5.5), layout="constrained", squeeze=False
    )
    methods = [m for m in [*METHODS, *ENGINES, *REFERENCES] if m in set(timings["method"])]
    palette = plt.get_cmap("tab20").colors  # 20 distinct colours: no two methods share one
    colors = {method: palette[i % 20] for i, method in enumerate(m for m in methods if m not in REFERENCES)}
    colors |= {"read": "black", "create_csindex": "gray"}
    for ax, order in zip(axes[0], orders, strict=True):
        for method in methods:
            rows = timings[(timings["method"] == method) & (timings["order"] == order)]
            if rows.empty:
                continue
            ax.errorbar(
                rows["rows"],
                rows["seconds"],
                yerr=[rows["seconds"] - rows["seconds_min"], rows["seconds_max"] - rows["seconds"]],
                marker="s" if method in ENGINES else "o",
                color=colors[method],
                linestyle=REFERENCES.get(method, "-"),
                capsize=3,
                label=LABELS.get(method, method),
            )
            unstable = rows[~stable_flags(rows)]  # hollow: samples spread more than 15 %, or one sample
            ax.scatter(unstable["rows"], unstable["seconds"], s=36, color="white", edgecolors=colors[method],
                       zorder=4)  # fmt: skip
        missing = [
            LABELS.get(m, m)
            for m in methods
            if not ((timings["method"] == m) & (timings["order"] == order)).any()
        ]
        # a panel never drops methods silently: its title names what was not timed on these rows
        note = "\n" + textwrap.fill("not timed on these rows: " + ", ".join(missing), 60) if missing else ""
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("rows in the table")
        ax.set_ylabel("time per query (s, median)")
        ax.set_title(
            f"{order} rows"
            + (" (as generated: sorted by the queried column)" if order == "sorted" else "")
            + note,
            fontsize=10,
        )
        ax.grid(True, which="both", alpha=0.3)
        sizes = sorted(timings.loc[timings["order"] == order, "rows"].unique())
        if len(sizes) < 4:  # few sizes: straight lines between them are not measurements
            ax.text(0.01, 0.01, f"only {len(sizes)} table size(s) measured: lines join measured points only",
                    transform=ax.transAxes, fontsize=9, color="dimgray")  # fmt: skip
    handles = {}
    for ax in axes[0]:  # one legend for every panel, beside them: it never hides a line
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    fig.legend(handles.values(), handles.keys(), loc="outside right upper")
    fig.suptitle(f"Particle table: query time\n{query}\n(hollow: samples spread more than 15 %, or one "
                 "sample)", parse_math=False)  # text, never mathtext  # fmt: skip
    return fig


# The headline (kept importable from here: the stage and its tests read it as figures.*)
from outofcore.particles.headline import BOUND, HOW, STORE_HEADLINES, headline  # noqa: E402, F401
