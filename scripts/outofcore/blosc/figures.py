"""The blosc sweep's table, figures and performance ratios, from the jobs' parts.

- `seed_loglog`: the tutorial's figure, fixed: pack_array compression and decompression
  time against n, log-log, in seconds (the tutorial's axis said ms, its data were s);
- `throughput`: GB/s against n for every method/codec at the best thread count, with the
  memory-copy bandwidth measured in the same run as the ceiling;
- `ratio`: compression ratio against n;
- `scaling`: GB/s against threads at the largest size, with the memory bandwidths over
  as many threads measured by the same jobs.
Unstable points (samples spread more than 15 %) are drawn hollow. The plotting
functions take the sweep table and return the Figure (tests read its Axes).
With several data sources or filter pipelines, these show `main_view`: the first source
and the first pipeline; `blosc_matrix` compares them all.
"""

import math

import matplotlib

matplotlib.use("Agg")  # no display: before pyplot is imported
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from outofcore.blosc.rows import MEMCPY, SETTING
from outofcore.core.timing import stable_flags
from outofcore.plan.units import GB
from outofcore.summary.headline import Headline

SIZE_LABEL = "array size n (elements of the data source)"
OPERATIONS = ("compress", "decompress")
SAFE_METHODS = ("compress_ptr", "blosc2", "compress2")
FILTERED = ("blosc2", "compress2")  # the methods with blosc2's filter pipelines
plt.rcParams["svg.hashsalt"] = "blosc-sweep"  # the same figure gives the same SVG bytes


def bandwidth(
    sweep: pd.DataFrame, kind: str = "copy", threads: int | None = None, best: bool = False
) -> float | None:
    """A memory bandwidth of the sweep (GB/s) over `threads` (default: the most measured),
    at the median or, with `best`, in the fastest sample (a limit: other processes only
    slow it down); None if the sweep has none."""
    rows = sweep[(sweep["method"] == MEMCPY) & (sweep["operation"] == kind)]
    if threads is not None:
        rows = rows[rows["threads"] == threads]
    if rows.empty:
        return None
    row = rows.sort_values("threads").iloc[-1]
    return float(row["nbytes"] / row["seconds_min"] / GB) if best else float(row["gbps"])


def main_view(sweep: pd.DataFrame, data: str | None = None, filters: str | None = None) -> pd.DataFrame:
    """The memcpy rows and the rows of one data source (default the first) with one blosc2
    filter pipeline (default the first): the tutorial's sweep on that source."""
    if "data" not in sweep.columns:
        return sweep
    measured = sweep[sweep["method"] != MEMCPY]
    data = data or (measured["data"].iloc[0] if len(measured) else None)
    blosc2 = measured[(measured["data"] == data) & (measured["method"] == "blosc2")]
    filters = filters or (blosc2["filters"].iloc[0] if len(blosc2) else None)
    keep = (sweep["method"] == MEMCPY) | (
        (sweep["data"] == data) & (~sweep["method"].isin(FILTERED) | (sweep["filters"] == filters))
    )
    return sweep[keep]


def memcpy_gbps(sweep: pd.DataFrame) -> float | None:
    """The sweep's memory-copy bandwidth over the most threads it measured (GB/s)."""
    return bandwidth(sweep, "copy")


def draw_points(ax, x: pd.Series, y: pd.Series, stable: pd.Series, style: str = "-", **kwargs) -> None:
    """A line through the points, stable ones filled, unstable ones hollow."""
    (line,) = ax.plot(x, y, style, **kwargs)
    color = line.get_color()
    ax.scatter(x[stable], y[stable], color=color, zorder=3)
    ax.scatter(x[~stable], y[~stable], facecolors="none", edgecolors=color, zorder=3)


def best_threads(sweep: pd.DataFrame) -> pd.DataFrame:
    """Per (method, codec, size, operation), the row of the thread count with the best GB/s."""
    rows = sweep[sweep["method"] != MEMCPY]
    best = rows.loc[rows.groupby(["method", "codec", "size", "operation"])["gbps"].idxmax()]
    return best.sort_values(["method", "codec", "operation", "size"], ignore_index=True)


def series_label(method: str, codec: str) -> str:
    return "pack_array (pickle, baseline)" if method == "pack_array" else f"{method} / {codec}"


def seed_loglog(sweep: pd.DataFrame) -> Figure:
    """pack_array / unpack_array seconds per call against n, one line per operation x threads."""
    fig, ax = plt.subplots(figsize=(9.5, 5), layout="constrained")
    rows = sweep[sweep["method"] == "pack_array"]
    names = {"compress": "compression (pack_array)", "decompress": "decompression (unpack_array)"}
    colors = {"compress": "tab:blue", "decompress": "tab:orange"}
    styles = dict(zip(sorted(rows["threads"].unique()), ["-", "--", ":", "-."] * 64, strict=False))
    for (operation, threads), points in rows.groupby(["operation", "threads"]):
        points = points.sort_values("size")
        color = colors[operation]
        label = f"{names[operation]}, {threads} thread{'s' if threads > 1 else ''}"
        ax.plot(points["size"], points["seconds"], styles[threads], color=color, marker="o", label=label)
        ax.fill_between(points["size"], points["seconds_min"], points["seconds_max"], color=color, alpha=0.15)
    if rows.empty:
        ax.text(0.5, 0.5, "pack_array is not in blosc.methods", ha="center", transform=ax.transAxes)
    ax.set_xscale("log", nonpositive="clip")  # the tutorial's nonposx= no longer exists
    ax.set_yscale("log", nonpositive="clip")
    ax.set_xlabel(SIZE_LABEL)
    ax.set_ylabel("time per call (s), median; band: min-max of samples")
    ax.set_title("blosc.pack_array / unpack_array against array size")
    ax.grid(True, which="major", alpha=0.3)
    if not rows.empty:
        fig.legend(loc="outside right upper")  # beside the axes: it never hides a line
    return fig


def throughput(sweep: pd.DataFrame) -> Figure:
    """GB/s (uncompressed bytes per second) against n per method/codec, memcpy as the ceiling."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.5), sharey=True, layout="constrained")
    best = best_threads(sweep)
    copy_rate = memcpy_gbps(sweep)
    most = sweep.loc[sweep["method"] == MEMCPY, "threads"].max()
    for ax, operation in zip(axes, OPERATIONS, strict=True):
        for (method, codec), points in best[best["operation"] == operation].groupby(["method", "codec"]):
            style = "--" if method == "pack_array" else "-"
            label = series_label(method, codec)
            draw_points(ax, points["size"], points["gbps"], stable_flags(points), style, label=label)
        if copy_rate is not None:
            ax.axhline(
                copy_rate,
                color="black",
                linewidth=2,
                label=f"memcpy (np.copyto, {most} thread{'s' if most > 1 else ''}): {copy_rate:.1f} GB/s",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(SIZE_LABEL)
        ax.set_title(f"{operation}ion" if operation == "compress" else "decompression")
        ax.grid(True, which="major", alpha=0.3)
    threads = ", ".join(str(t) for t in sorted(sweep.loc[sweep["method"] != MEMCPY, "threads"].unique()))
    axes[0].set_ylabel("throughput (GB/s of uncompressed data)")
    handles, labels = axes[0].get_legend_handles_labels()
    # below the panels: beside them, its top would sit under the figure-wide title
    fig.legend(handles, labels, loc="outside lower center", ncols=min(3, max(1, len(labels))))
    fig.suptitle(
        f"blosc throughput at the best of {threads} threads per point; memcpy measured in the same run"
        "\nhollow: samples spread more than 15 %"
    )
    return fig


def ratio(sweep: pd.DataFrame) -> Figure:
    """Uncompressed / compressed bytes against n per method/codec (at the most threads)."""
    fig, ax = plt.subplots(figsize=(9.5, 5), layout="constrained")
    rows = sweep[(sweep["method"] != MEMCPY) & (sweep["operation"] == "compress")]
    rows = rows[rows["threads"] == rows["threads"].max()]
    for (method, codec), points in rows.groupby(["method", "codec"]):
        style = "--" if method == "pack_array" else "-"
        ax.plot(points["size"], points["ratio"], style, marker="o", label=series_label(method, codec))
    ax.axhline(1.0, color="gray", linewidth=1, label="no gain (ratio 1)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(SIZE_LABEL)
    ax.set_ylabel("compression ratio (uncompressed / compressed bytes)")
    ax.set_title("blosc compression ratio against array size")
    ax.grid(True, which="major", alpha=0.3)
    fig.legend(loc="outside right upper")
    return fig


def targets(sweep: pd.DataFrame) -> pd.DataFrame:
    """The performance ratios at the largest size and the most threads of the sweep.

    Best safe method against memcpy and against pack_array, for each operation. Ratios,
    not seconds: both sides come from the same run on the same machine.
    """
    rows = sweep[sweep["method"] != MEMCPY]
    size, threads = rows["size"].max(), rows["threads"].max()
    point = rows[(rows["size"] == size) & (rows["threads"] == threads)]
    copy_rate = bandwidth(sweep, "copy", threads) or memcpy_gbps(sweep)
    lines = []
    goals = {"compress": (0.3, 4.0), "decompress": (0.8, 10.0)}
    for operation in OPERATIONS:
        here = point[point["operation"] == operation]
        safe = here[here["method"].isin(SAFE_METHODS)]
        baseline = here[here["method"] == "pack_array"]
        if safe.empty:
            continue
        best = safe.loc[safe["gbps"].idxmax()]
        name = f"{best['method']}/{best['codec']}"
        at = f"n={size}, threads={threads}"
        if copy_rate is not None:
            lines.append(
                (f"best safe {operation} / memcpy", best["gbps"] / copy_rate, goals[operation][0], name, at)
            )
        if not baseline.empty:
            speedup = best["gbps"] / baseline["gbps"].iloc[0]
            lines.append((f"best safe {operation} / pack_array", speedup, goals[operation][1], name, at))
    table = pd.DataFrame(lines, columns=["quantity", "value", "target_at_least", "method", "point"])
    table["meets_target"] = table["value"] >= table["target_at_least"]
    return table


def agreement(first: pd.DataFrame, second: pd.DataFrame, min_size: int = 10_000) -> pd.DataFrame:
    """Relative difference of the median seconds of two sweeps, per point with n >= min_size."""
    key = [c for c in ("data", "method", "codec", "filters", "threads", "size", "operation") if c in first]
    both = first.merge(second, on=key, suffixes=("_first", "_second"))
    both = both[both["size"] >= min_size]
    both["relative_difference"] = (both["seconds_second"] - both["seconds_first"]).abs() / both[
        "seconds_first"
    ]
    return both[[*key, "seconds_first", "seconds_second", "relative_difference"]]


# What bounds an in-memory operation on T threads: compression reads the uncompressed
# bytes (and writes far fewer), decompression writes them (and reads far fewer).
OPERATION_LIMIT = {"compress": "read", "decompress": "write"}


def scaling(sweep: pd.DataFrame) -> Figure:
    """GB/s against threads at the largest size per method/codec, both operations, with
    the memory bandwidths (copy, write, read) over as many threads as the ceilings."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True, layout="constrained")
    rows = sweep[sweep["method"] != MEMCPY]
    size = rows["size"].max()
    rows = rows[rows["size"] == size]
    copies = sweep[sweep["method"] == MEMCPY]
    for ax, operation in zip(axes, OPERATIONS, strict=True):
        for (method, codec), points in rows[rows["operation"] == operation].groupby(["method", "codec"]):
            points = points.sort_values("threads")
            style = "--" if method == "pack_array" else "-"
            label = series_label(method, codec)
            draw_points(ax, points["threads"], points["gbps"], stable_flags(points), style, label=label)
        for kind, color in (("copy", "black"), ("write", "dimgray"), ("read", "darkgray")):
            line = copies[copies["operation"] == kind].sort_values("threads")
            bounds = " (the bound)" if OPERATION_LIMIT[operation] == kind else ""
            ax.plot(line["threads"], line["gbps"], color=color, linewidth=2, label=f"memory {kind}{bounds}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ticks = sorted(set(rows["threads"]) | set(copies["threads"]))
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.set_xlabel("threads")
        ax.set_title(f"{operation}ion" if operation == "compress" else "decompression")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("throughput (GB/s of uncompressed data)")
    axes[0].legend(fontsize="small")
    fig.suptitle(
        f"blosc scaling with threads at n={size:,}; memory bandwidths over as many threads, same jobs"
    )
    return fig


def headline(sweep: pd.DataFrame) -> list[Headline]:
    """The best pickle-free codec and the tutorial's pack_array at the largest size and
    the most threads T, compression and decompression, against the memory bandwidth the
    same job measured over T threads (its fastest sample) (`read_{T}t` for compression, `write_{T}t` for
    decompression)."""
    points = sweep[sweep["operation"].isin(OPERATIONS)]
    size, threads = points["size"].max(), points["threads"].max()
    points = points[(points["size"] == size) & (points["threads"] == threads)]
    rows = []
    for operation in OPERATIONS:
        kind = OPERATION_LIMIT[operation]
        limit = bandwidth(sweep, kind, threads, best=True)
        here = points[points["operation"] == operation]
        safe = here[here["method"].isin(SAFE_METHODS)]
        settings = safe["setting"] if "setting" in safe else safe["method"].map(SETTING)  # older tables
        for label, subset, tutorial, setting in (
            ("best pickle-free, as its docs advise", safe[settings == "tuned"], False, "tuned"),
            ("best pickle-free, as typed", safe[settings == "default"], False, "default"),
            ("pack_array (tutorial)", here[here["method"] == "pack_array"], True, "default"),
        ):
            if subset.empty:
                continue
            best = subset.loc[subset["gbps"].idxmax()]
            method = f"{best['method']}/{best['codec']}"
            figure = f"{operation}, {label} {method} (n={size:,}, {threads} threads)"
            job = f"{operation} an array in memory"
            data = str(best.get("data", ""))
            rows.append(
                Headline("blosc", job, method, figure, float(best["gbps"]), "GB/s", f"{kind}_{threads}t",
                         int(threads), limit_value=math.nan if limit is None else limit, tutorial=tutorial,
                         spread=float(best.get("spread", math.nan)),
                         others_busy=float(best.get("others_busy", math.nan)),
                         data="" if data == "nan" else data,
                         compression_ratio=float(best.get("ratio", math.nan)),
                         decide=False,  # the decision ranks round trips per source (blosc.matrix)
                         setting=setting)
            )  # fmt: skip
    return rows
