"""The run's headline figures, each beside the machine limit that bounds it.

Every figure comes from a stage's `headline.csv` (see `outofcore.headline`) and every
limit from `limits.csv` (or, for the table fill, `np.save` timed in the same job): both
measured in this run, so the fraction of the limit reads the same on a laptop and on a
cluster node.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

COLUMNS = ["stage", "figure", "value", "unit", "limit", "limit_value", "fraction_of_limit"]

LIMIT_NAMES = {
    "memcpy": "memory copy (np.copyto)",
    "page_cache_write": "page-cache write",
    "warm_read": "warm read (page cache)",
    "cold_read": "cold read (device)",
}


def limit_values(limits: pd.DataFrame) -> dict[str, float]:
    rows = limits[limits["unit"] == "GB/s"]
    return {name: float(value) for name, value in zip(rows["name"], rows["value"], strict=True)}


def summarize(limits: pd.DataFrame, headlines: pd.DataFrame) -> pd.DataFrame:
    """The summary table: every stage's headline figure with the value of its limit (from
    `limits.csv`, or measured by the stage itself) and the fraction."""
    values = limit_values(limits)
    rows = []
    for item in headlines.itertuples(index=False):
        own = not pd.isna(item.limit_value)
        if not own and item.limit not in values:
            raise ValueError(f"{item.stage}: limit {item.limit!r} is not in limits.csv")
        limit_value = float(item.limit_value) if own else values[item.limit]
        rows.append(
            {
                "stage": item.stage,
                "figure": item.figure,
                "value": float(item.value),
                "unit": item.unit,
                "limit": LIMIT_NAMES.get(item.limit, item.limit),
                "limit_value": limit_value,
                "fraction_of_limit": float(item.value) / limit_value,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


DECISION_INTRO = (
    "For each job this run measured: the fastest method (the tutorial's own way left aside), "
    "its speed, that speed as a fraction of the machine limit that bounds it (1 = the limit, "
    "measured in the same run), and how many times faster it is than the tutorial's way "
    "(empty where the tutorial has no way of doing the job). One run on one machine: "
    "read the ratios rather than the digits."
)
DECISION_COLUMNS = ["job", "method", "value", "unit", "fraction_of_limit", "vs_tutorial"]


def decide(limits: pd.DataFrame, headlines: pd.DataFrame) -> pd.DataFrame:
    """The "what to use" table: for each job, the fastest method of this run that is not
    the tutorial's way, its fraction of the limit, and value / the tutorial's value (how
    many times faster; empty where the tutorial has no way of doing the job)."""
    summary = summarize(limits, headlines)
    table = headlines.reset_index(drop=True).assign(
        value=summary["value"], fraction_of_limit=summary["fraction_of_limit"]
    )
    tutorial = table["tutorial"].astype(str).str.lower() == "true"
    rows = []
    for job in dict.fromkeys(table["job"]):  # in the stages' order
        here = table[table["job"] == job]
        own, theirs = here[~tutorial[here.index]], here[tutorial[here.index]]
        if own.empty:
            continue
        best = own.loc[own["value"].idxmax()]  # every headline figure is a rate: higher is faster
        reference = theirs[theirs["unit"] == best["unit"]]["value"]
        rows.append(
            {
                "job": job,
                "method": best["method"],
                "value": float(best["value"]),
                "unit": best["unit"],
                "fraction_of_limit": float(best["fraction_of_limit"]),
                "vs_tutorial": float(best["value"]) / reference.max() if len(reference) else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)


def plot_fractions(summary: pd.DataFrame) -> Figure:
    """Horizontal bars: every figure as a fraction of its limit (1 = the machine's limit)."""
    fig, ax = plt.subplots(figsize=(11, 0.55 * len(summary) + 1.8), layout="constrained")
    labels = [
        f"{s}: {f}\n  vs {lim}" for s, f, lim in summary[["stage", "figure", "limit"]].itertuples(False)
    ]
    colors = summary["stage"].map({"particles": "C0", "blosc": "C1", "hugearray": "C2"}).fillna("C7")
    ax.barh(range(len(summary)), summary["fraction_of_limit"], color=colors)
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1, label="the machine's limit")
    ax.set_yticks(range(len(summary)), labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("fraction of the limit (value / limit, both measured in this run)")
    ax.set_title("Every headline figure beside the machine limit that bounds it")
    fig.legend(loc="outside lower center")  # below the axes: it never hides a bar
    return fig
