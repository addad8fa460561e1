"""The particle stage's third figure, the evidence of the query verdict: seconds per query
against the share of the rows it returns (the configured query and each of
`particles.queries`), one line per method, one panel per row order, at the largest table."""

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from outofcore.core.timing import stable_flags
from outofcore.particles.figures import ORDERS
from outofcore.particles.questions import SHARE_LABELS

# The configured query's methods drawn on the shares' lines: read_where (where on the
# shuffled rows, which time no read_where) and the indexed where
CONFIGURED = {"read_where": "read_where", "where": "read_where", "indexed": "indexed_read_where"}


def share_points(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The largest table's query rows by share of the rows: the shares asked, and the
    configured query's rows of the same methods (its share: matches / rows)."""
    timings = max(tables, key=lambda t: t["rows"].max())
    queries = timings[(timings["step"] == "query") & timings["matches"].notna()].copy()
    if "selectivity" not in queries:
        queries["selectivity"] = float("nan")
    asked = queries[queries["selectivity"].notna()]
    configured = queries[queries["selectivity"].isna()]
    configured = configured.sort_values("method", key=lambda m: m != "read_where", kind="stable")
    configured = configured.assign(method=configured["method"].map(lambda m: CONFIGURED.get(m, m)))
    configured = configured.drop_duplicates(["method", "order"])  # read_where before where
    points = pd.concat([configured, asked], ignore_index=True)
    points = points[points["method"].isin(SHARE_LABELS)]
    points["share"] = points["matches"] / points["rows"]
    return points.sort_values(["method", "order", "share"])


def plot_shares(points: pd.DataFrame, query: str) -> Figure:
    """Median seconds per query against the share of the rows returned (log-log), bars
    from the fastest to the slowest sample; hollow: samples spread more than 15 %."""
    orders = [o for o in ORDERS if o in set(points["order"])] or ["sorted"]
    fig, axes = plt.subplots(1, len(orders), figsize=(6.5 * len(orders), 5), layout="constrained",
                             squeeze=False)  # fmt: skip
    palette = plt.get_cmap("tab10").colors
    colors = {method: palette[i % 10] for i, method in enumerate(SHARE_LABELS)}
    for ax, order in zip(axes[0], orders, strict=True):
        for method, label in SHARE_LABELS.items():
            rows = points[(points["method"] == method) & (points["order"] == order)]
            if rows.empty:
                continue
            ax.errorbar(rows["share"] * 100, rows["seconds"], color=colors[method], marker="o", capsize=3,
                        yerr=[rows["seconds"] - rows["seconds_min"], rows["seconds_max"] - rows["seconds"]],
                        label=label)  # fmt: skip
            unstable = rows[~stable_flags(rows)]
            ax.scatter(unstable["share"] * 100, unstable["seconds"], s=36, color="white",
                       edgecolors=colors[method], zorder=4)  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("share of the rows the query returns (%)")
        ax.set_ylabel("time per query (s, median)")
        ax.set_title(f"{order} rows", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    handles = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(handles.values(), handles.keys(), loc="outside right center")  # never over the title
    rows = int(points["rows"].max()) if len(points) else 0
    fig.suptitle(f"Particle table of {rows:,} rows: query time against the share of rows returned\n"
                 f"smallest: the configured query {query}\nhollow: samples spread more than 15 %",
                 parse_math=False, fontsize=10)  # fmt: skip
    return fig
