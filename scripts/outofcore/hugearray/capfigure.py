"""The memory-cap comparison of the huge-array stage: the naive way (the whole array
loaded) against the out-of-core jobs, both under the same cap (`memcap`).

`memory_cap.csv` holds the naive rows (one per size and data source) and the out-of-core
rows beside them; `memory_cap.png` draws, per array size, each out-of-core job's peak
RSS and the naive load's (what it needed when the cap stopped it), with the cap as a line.
"""

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from outofcore.hugearray.figures import method
from outofcore.hugearray.naive import stopped_at_cap

COLUMNS = ["size_mb", "data", "backend", "engine", "setting", "peak_rss_mb", "needed_mb", "memory_cap_mb",
           "cap", "check", "reduce_seconds", "reduce_gbps", "host"]  # fmt: skip


def load_naive(paths: Sequence[str | Path]) -> pd.DataFrame:
    """The naive rows the jobs wrote (most tables are empty: one job per size runs it)."""
    frames = [frame for frame in (pd.read_csv(path) for path in paths) if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    naive = pd.concat(frames, ignore_index=True)
    wrong = naive[(naive["check"] != "ok") & ~naive["check"].map(stopped_at_cap)]
    if not wrong.empty:
        where = wrong[["size_mb", "backend", "check"]].to_dict("records")
        raise ValueError(f"the naive load gave wrong statistics: {where}")
    return naive


def comparison(naive: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The naive rows and the out-of-core rows, per size, the naive one first."""
    both = pd.concat([naive.reindex(columns=COLUMNS), frame.reindex(columns=COLUMNS)], ignore_index=True)
    both["naive"] = both["engine"] == "naive"
    both = both.sort_values(
        ["size_mb", "data", "naive", "backend", "engine"], ascending=[True, True, False, True, True]
    )
    return both.drop(columns="naive").reset_index(drop=True)


def jobs_of(rows: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(backend, engine, setting) of each row (a table without settings: the pipeline's)."""
    settings = rows["setting"].fillna("pipeline") if "setting" in rows else ["pipeline"] * len(rows)
    return list(zip(rows["backend"], rows["engine"], settings, strict=True))


def plot_memory_cap(table: pd.DataFrame, cap_mb: float | None) -> Figure:
    """Grouped bars per array size: peak RSS of each out-of-core job, and the naive load's
    peak RSS with (when stopped) what it needed, above the cap line."""
    fig, ax = plt.subplots(figsize=(10, 4.8))
    sizes = sorted(table["size_mb"].unique())
    methods = sorted({method(*job) for job in jobs_of(table) if job[1] != "naive"})
    width = 0.8 / (len(methods) + 1)
    labelled: set[str] = set()

    def once(label: str) -> str | None:  # each legend entry once
        if label in labelled:
            return None
        labelled.add(label)
        return label

    for i, size in enumerate(sizes):
        rows = table[table["size_mb"] == size]
        naive = rows[rows["engine"] == "naive"]
        for j, name in enumerate(methods):
            mine = rows[[method(*job) == name for job in jobs_of(rows)]]
            if not mine.empty:
                ax.bar(
                    i + j * width,
                    mine["peak_rss_mb"].max(),
                    width,
                    color=f"C{j}",
                    label=once(f"out of core: {name}"),
                )
        for item in naive.itertuples():
            x = i + len(methods) * width
            stopped = stopped_at_cap(item.check)
            if stopped and not math.isnan(item.needed_mb):
                ax.bar(x, item.needed_mb, width, color="none", edgecolor="firebrick", hatch="//",
                       label=once("naive: needed (the whole array)"))  # fmt: skip
            ax.bar(x, item.peak_rss_mb if not math.isnan(item.peak_rss_mb) else 0, width, color="firebrick",
                   label=once("naive: peak RSS"))  # fmt: skip
            word = "stopped at the cap" if stopped else f"loaded, {item.reduce_seconds:.1f} s"
            top = max(
                item.needed_mb if stopped else 0, item.peak_rss_mb if not math.isnan(item.peak_rss_mb) else 0
            )
            ax.annotate(f"{item.backend} [:]\n{word}", (x, top), ha="center", va="bottom", fontsize="small")
    if cap_mb:
        how = ", ".join(sorted(set(table["cap"].dropna()) - {"none"})) or "none"
        ax.axhline(cap_mb, color="black", linestyle="--", label=f"memory cap {cap_mb} MiB ({how})")
    else:
        ax.set_title("no memory cap configured (hugearray.memory_cap_mb)")
    ax.set_xticks(
        [i + len(methods) * width / 2 for i in range(len(sizes))], [f"{s} MiB array" for s in sizes]
    )
    ax.set_ylabel("memory (MiB): peak RSS, or needed")
    if cap_mb:
        ax.set_title("Under the same memory cap: out of core finishes, the whole array in memory does not")
    ax.grid(True, axis="y", alpha=0.3)
    ax.margins(y=0.15)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0, fontsize="small")
    fig.tight_layout()
    return fig
