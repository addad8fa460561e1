"""Plots of the huge-array stage: peak memory and throughput against array size, per backend.

Reads every per-job CSV (one row each), writes them together as one table, and draws
`memory.png` (peak RSS vs size: flat lines mean memory bounded by the block, not by
the array) and `throughput.png` (write and reduce GB/s vs size).
"""

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

from outofcore.headline import Headline
from outofcore.timing import STABLE_SPREAD


def load_measurements(paths: Sequence[str | Path]) -> pd.DataFrame:
    """All per-job rows, ordered by backend then size."""
    frame = pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)
    return frame.sort_values(["backend", "size_mb"], kind="stable").reset_index(drop=True)


# Distinct markers and dashes: backends with equal values (tables and h5py share the
# same chunks) stay visible on top of each other.
STYLES = [("o", "-"), ("s", "--"), ("^", ":"), ("D", "-.")]


def backend_lines(frame: pd.DataFrame):
    """(label, rows, plot style) per backend, in the frame's order."""
    for i, (backend, rows) in enumerate(frame.groupby("backend", sort=False)):
        marker, dashes = STYLES[i % len(STYLES)]
        label = f"{backend} ({rows['compression'].iloc[0]})"
        yield label, rows, {"marker": marker, "linestyle": dashes, "markersize": 8 - 1.5 * i}


def size_axis(ax, sizes) -> None:
    """Log axis of array sizes, ticks at the sizes measured, written as plain numbers."""
    ax.set_xscale("log")
    ax.set_xticks(sizes)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("array size (MiB)")


def failed_checks(frame: pd.DataFrame) -> str:
    """'' if every check passed, else a note naming the failing jobs (shown in the title)."""
    bad = frame[frame["check"] != "ok"]
    if bad.empty:
        return ""
    jobs = ", ".join(f"{row.backend} {row.size_mb} MiB" for row in bad.itertuples())
    return f"\nCHECK FAILED: {jobs}"


def plot_memory(frame: pd.DataFrame) -> Figure:
    fig, ax = plt.subplots(figsize=(7, 4.8))
    for label, rows, style in backend_lines(frame):
        ax.plot(rows["size_mb"], rows["peak_rss_mb"], label=label, **style)
    sizes = sorted(frame["size_mb"].unique())
    ax.plot(sizes, sizes, linestyle="--", color="grey", label="array size (holding it all)")
    size_axis(ax, sizes)
    ax.set_yscale("log")
    ax.set_ylim(bottom=10 ** math.floor(math.log10(frame["peak_rss_mb"].min())))  # a labelled decade
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("peak RSS of the job (MiB, ru_maxrss)")
    ax.set_title("Memory stays flat while the on-disk array grows" + failed_checks(frame))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_throughput(frame: pd.DataFrame, cold_read: bool) -> Figure:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True)
    cache = "cold page cache: read from disk" if cold_read else "warm page cache"
    titles = {
        "write_gbps": "write (generate excluded, fsync included)",
        "reduce_gbps": f"out-of-core reduce ({cache})",
    }
    for ax, (column, title) in zip(axes, titles.items(), strict=True):
        spread = column.replace("_gbps", "_spread")
        for label, rows, style in backend_lines(frame):
            (line,) = ax.plot(rows["size_mb"], rows[column], label=label, **style)
            if spread in rows:  # hollow: the pass's quarters spread more than 15 %
                unsteady = rows[rows[spread] > STABLE_SPREAD]
                ax.scatter(unsteady["size_mb"], unsteady[column], s=60, color="white",
                           edgecolors=line.get_color(), zorder=4)  # fmt: skip
        size_axis(ax, sorted(frame["size_mb"].unique()))
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("GB/s of uncompressed array (10^9 bytes/s)")
    axes[0].set_ylim(bottom=0)
    axes[1].legend()
    fig.suptitle("Throughput per backend (hollow: quarters of the pass spread > 15 %)" + failed_checks(frame))
    fig.tight_layout()
    return fig


def compression_ratio(item) -> float:
    """Uncompressed array bytes / bytes of the file that holds them."""
    return float(item.rows) * float(item.columns) * 8 / float(item.file_bytes)


def headline(frame: pd.DataFrame, threads: int, cold_read: bool) -> list[Headline]:
    """Each backend's write and out-of-core reduce at the largest size. The write fsyncs:
    it is set against durable write. The reduce reads the file from the device when the
    job evicted it from the page cache first (cold read), else from the cache (warm
    read). The file holds compressed bytes, so the summary bounds both figures, counted
    in uncompressed bytes, by min(disk rate x the file's compression ratio, copy over
    the job's threads)."""
    read = "cold_read" if cold_read else "warm_read"
    largest = frame[frame["size_mb"] == frame["size_mb"].max()]
    rows = []
    for item in largest.itertuples():
        where = f"{item.backend}, {item.size_mb} MB, {item.compression}"
        busy = float(getattr(item, "others_busy", math.nan))
        write = {"spread": float(getattr(item, "write_spread", math.nan)), "others_busy": busy}
        read_sure = {"spread": float(getattr(item, "reduce_spread", math.nan)), "others_busy": busy}
        ratio = compression_ratio(item)
        rows += [
            Headline("hugearray", "write an array larger than memory", item.backend,
                     f"write, fsync included ({where})", float(item.write_gbps), "GB/s", "durable_write",
                     threads, compression_ratio=ratio, **write),
            Headline("hugearray", "reduce an array larger than memory", item.backend,
                     f"out-of-core reduce ({where}, {ratio:.2f}x compressed)", float(item.reduce_gbps),
                     "GB/s", read, threads, compression_ratio=ratio, **read_sure),
        ]  # fmt: skip
    return rows
