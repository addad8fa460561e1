"""Plots of the huge-array stage: peak memory and throughput against array size, per
data source, backend and reduce engine.

Reads every per-job CSV (one row each), writes them together as one table with each
(data, backend, engine)'s memory growth from the smallest size, and draws `memory.png` (peak
RSS vs size: flat lines mean memory bounded by the block, not by the array) and
`throughput.png` (write and reduce GB/s vs size).
"""

import math
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

from outofcore.core.timing import STABLE_SPREAD
from outofcore.hugearray.data import checked
from outofcore.plan.hugearray_inputs import OWN_DATA
from outofcore.plan.hugearray_stores import TUNABLE_STORES, setting_of
from outofcore.summary.headline import Headline, headline_frame, host_of
from outofcore.summary.table import summarize

GROWTH_LIMIT_MB = 64  # peak RSS may grow less than this from the smallest to the largest array
LINE = ["data", "backend", "engine", "setting"]  # one line of the plots, one memory growth


def load_measurements(paths: Sequence[str | Path]) -> pd.DataFrame:
    """All per-job rows, ordered by data, backend, engine, then size, with each (data,
    backend, engine)'s peak RSS growth from its smallest size (`rss_growth_mb`) and `bounded`:
    "yes" if that growth stays under GROWTH_LIMIT_MB at every size, "NO" if not, "-"
    with a single size (nothing to compare). A row whose check is not `ok` (a job's
    wrong answer, which its job refuses to write) fails here too."""
    frames = [pd.read_csv(path) for path in paths]
    for path, rows in zip(paths, frames, strict=True):
        if not rows["check"].map(checked).all():
            raise ValueError(f"{path}: check = {rows['check'].tolist()}: the out-of-core result was wrong")
    frame = pd.concat(frames, ignore_index=True)
    if "data" not in frame:  # a table written before the stage had data sources
        frame["data"] = OWN_DATA
    frame = with_settings(frame)
    frame = frame.sort_values([*LINE, "size_mb"], kind="stable").reset_index(drop=True)
    groups = frame.groupby(LINE, sort=False)["peak_rss_mb"]
    frame["rss_growth_mb"] = frame["peak_rss_mb"] - groups.transform("first")
    worst = frame.groupby(LINE, sort=False)["rss_growth_mb"].transform("max")
    sizes = groups.transform("size")
    frame["bounded"] = [
        "-" if n < 2 else ("yes" if w < GROWTH_LIMIT_MB else "NO") for n, w in zip(sizes, worst, strict=True)
    ]
    return frame


def with_settings(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with their `setting` (a table written before the stage had settings: the
    setting its backend and engine run at by default)."""
    if "setting" in frame:
        return frame
    settings = [setting_of(b, e) for b, e in zip(frame["backend"], frame["engine"], strict=True)]
    return frame.assign(setting=settings)


# Distinct markers and dashes: lines with equal values (tables and h5py share the same
# chunks) stay visible on top of each other.
STYLES = [("o", "-"), ("s", "--"), ("^", ":"), ("D", "-."), ("v", "-"), ("P", "--"), ("X", ":")]


def method(backend: str, engine: str, setting: str = "pipeline") -> str:
    """A (store, engine, setting) as the plots and the headline name it."""
    name = backend if engine == "threads" else f"{backend} + {engine}"
    return name if setting == "pipeline" else f"{name} ({setting})"


def is_tutorial(backend: str, engine: str, setting: str) -> bool:
    """The tutorial's way: the plain EArray through the filter, as a user types it."""
    return (backend, engine, setting) == ("tables_filter", "threads", "default")


def backend_lines(frame: pd.DataFrame):
    """(label, rows, plot style) per (data, backend, engine), in the frame's order; the
    label names the data source when there are several, and says when the job's memory
    was not bounded."""
    several = frame["data"].nunique() > 1
    for i, ((data, backend, engine, setting), rows) in enumerate(frame.groupby(LINE, sort=False)):
        marker, dashes = STYLES[i % len(STYLES)]
        label = f"{method(backend, engine, setting)} ({rows['compression'].iloc[0]}"
        label += f"{f', {data}' if several else ''})"
        if (rows["bounded"] == "NO").any():
            label += f" NOT BOUNDED: +{rows['rss_growth_mb'].max():.0f} MiB"
        yield label, rows, {"marker": marker, "linestyle": dashes, "markersize": max(3.0, 8 - 0.6 * i)}


def size_axis(ax, sizes) -> None:
    """Log axis of array sizes, ticks at the sizes measured, written as plain numbers."""
    ax.set_xscale("log")
    ax.set_xticks(sizes)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("array size (MiB)")


def plot_memory(frame: pd.DataFrame) -> Figure:
    fig, ax = plt.subplots(figsize=(9, 4.8))
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
    ax.set_title("Memory stays flat while the on-disk array grows")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0, fontsize="small")
    fig.tight_layout()
    return fig


def limit_lines(
    frame: pd.DataFrame,
    threads: int,
    cold_read: bool,
    limits: pd.DataFrame,
    nodes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each limit the summary divides this stage's headline figures by, as the summary
    names and computes it (`summarize` on the same headline rows and limits): one row per
    (plotted column, limit) with the methods it bounds."""
    rows = headline(frame, threads, cold_read)
    summary = summarize(limits, headline_frame(rows), nodes)
    summary["column"] = ["write_gbps" if row.job.startswith("write") else "reduce_gbps" for row in rows]
    summary["method"] = [row.method for row in rows]
    summary["shown"] = summary["limit_value"].map(lambda v: f"{v:.3g}")  # equal ratios, to the digits shown
    lines = summary.groupby(["column", "limit", "shown", "bound"], sort=False)
    return lines.agg(limit_value=("limit_value", "first"), method=("method", ", ".join)).reset_index()


RATIO = re.compile(r" x (\d+\.\d+)")  # the store's compression ratio in a limit's name


def limit_label(row) -> str:
    """A limit in full: its name and value as the summary gives them, the stores it bounds."""
    reference = " (a reference, not a ceiling)" if row.bound == "reference" else ""
    return f"{row.limit} = {row.limit_value:.3g} GB/s{reference}: {row.method}"


def limit_kind(limit: str) -> str:
    """A limit's name without the store's ratio: what the limits of one panel share."""
    return RATIO.sub(" x the store's ratio", limit)


def short_label(row) -> str:
    """A limit in the legend, under the title that names its kind: stores, value, ratio."""
    ratio = RATIO.search(row.limit)
    text = f"{row.method}: {row.limit_value:.3g} GB/s" + (f" (x {ratio.group(1)})" if ratio else "")
    return textwrap.fill(text + (" (a reference)" if row.bound == "reference" else ""), 50)


def draw_limits(ax, here: pd.DataFrame, colors: dict[str, str]) -> list:
    """Each limit as a dashed line in the colour of the first store it bounds, its full
    name as the line's label; the lines drawn."""
    drawn = []
    for row in here.itertuples(index=False):
        color = colors.get(row.method.split(", ")[0], "black")
        drawn.append(ax.axhline(row.limit_value, color=color, linewidth=1.4, linestyle=(0, (6, 3)),
                                label=limit_label(row), zorder=1))  # fmt: skip
    return drawn


STEPS = {"write_gbps": "write", "reduce_gbps": "reduce"}


def plot_throughput(frame: pd.DataFrame, cold_read: bool, limits: pd.DataFrame | None = None) -> Figure:
    """Write and reduce GB/s against size per (store, engine, setting); with `limits` (from
    `limit_lines`), each limit the summary divides the largest size's figures by, drawn
    as a dashed line in its panel in its store's colour, each named in a legend below."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.5 + 0.2 * (0 if limits is None else len(limits))),
                             sharey=True, layout="constrained")  # fmt: skip
    cache = "cold page cache: read from disk" if cold_read else "warm page cache"
    titles = {
        "write_gbps": "write (generate excluded, fsync included)",
        "reduce_gbps": f"out-of-core reduce ({cache})",
    }
    drawn, labels = [], []
    for ax, (column, title) in zip(axes, titles.items(), strict=True):
        spread = column.replace("_gbps", "_spread")
        series, colors = [], {}
        for label, rows, style in backend_lines(frame):
            (line,) = ax.plot(rows["size_mb"], rows[column], label=label, **style)
            series.append(line)
            first = rows.iloc[0]
            colors[method(first["backend"], first["engine"], first["setting"])] = line.get_color()
            if spread in rows:  # hollow: the pass's quarters spread more than 15 %
                unsteady = rows[rows[spread] > STABLE_SPREAD]
                ax.scatter(unsteady["size_mb"], unsteady[column], s=60, color="white",
                           edgecolors=line.get_color(), zorder=4)  # fmt: skip
        size_axis(ax, sorted(frame["size_mb"].unique()))
        ax.set_title(textwrap.fill(title, 34))  # two panels beside a legend: titles on two lines
        ax.grid(True, which="both", alpha=0.3)
        if limits is not None and len(here := limits[limits["column"] == column]):
            drawn += draw_limits(ax, here, colors)
            labels += [f"{STEPS[column]}, {short_label(row)}" for row in here.itertuples(index=False)]
    axes[0].set_ylabel("GB/s of uncompressed array (10^9 bytes/s)")
    axes[0].set_ylim(bottom=0)
    fig.legend(handles=series, loc="outside right upper", fontsize="small")  # the stores, once
    if drawn:
        kinds = "; ".join(dict.fromkeys(limit_kind(limit) for limit in limits["limit"]))
        title = textwrap.fill(
            f"dashed, in the colour of the store: the limits the summary divides by: {kinds}", 100
        )
        fig.legend(drawn, labels, loc="outside lower center", ncols=2, fontsize="small", title=title)
    fig.suptitle("Throughput per backend and reduce engine\n(hollow: quarters of the pass spread > 15 %)",
                 x=0.02, ha="left")  # fmt: skip
    return fig


def busy_of(item) -> float:
    return float(getattr(item, "others_busy", math.nan))


def compression_ratio(item) -> float:
    """Uncompressed array bytes / bytes of the file that holds them."""
    return float(item.rows) * float(item.columns) * 8 / float(item.file_bytes)


def headline(frame: pd.DataFrame, threads: int, cold_read: bool) -> list[Headline]:
    """At the largest size, per data source (named in the figure): each backend's write
    (once per backend and setting: every engine's job writes the same store; its
    `threads` job if it ran) and each (backend, engine, setting)'s out-of-core reduce. The write fsyncs: it is
    set against durable write. The reduce reads the store from the device when the job
    evicted it from the page cache first (cold read), else from the cache (warm read).
    The store holds compressed bytes, so the summary bounds both figures, counted in
    uncompressed bytes, by min(disk rate x the store's compression ratio, copy over the
    job's threads). Each row names its setting (a store's write: the store's own, the
    pipeline's for a store the user does not configure). `tables_filter` at its default
    is the tutorial's way; a note says when a job's memory was not bounded."""
    read = "cold_read" if cold_read else "warm_read"
    largest = with_settings(frame[frame["size_mb"] == frame["size_mb"].max()])
    largest = largest.assign(
        store_setting=[
            s if b in TUNABLE_STORES else "pipeline"
            for b, s in zip(largest["backend"], largest["setting"], strict=True)
        ]
    )
    writes = largest.sort_values("engine", key=lambda e: e != "threads", kind="stable")
    rows = []
    for item in writes.drop_duplicates(["data", "backend", "store_setting"]).itertuples():
        name = method(item.backend, "threads", item.store_setting)
        where = f"{name}, {item.size_mb} MiB, {item.compression}, data {item.data}"
        tutorial, note = is_tutorial(item.backend, "threads", item.store_setting), memory_note(item)
        sure = {"spread": float(getattr(item, "write_spread", math.nan)), "others_busy": busy_of(item),
                "host": host_of(item)}  # fmt: skip
        rows.append(Headline("hugearray", "write an array larger than memory", name,
                             f"write, fsync included ({where})", float(item.write_gbps), "GB/s",
                             "durable_write", threads, tutorial=tutorial, note=note,
                             compression_ratio=compression_ratio(item), setting=item.store_setting,
                             **sure, **described(item, "write")))  # fmt: skip
    for item in largest.itertuples():
        name = method(item.backend, item.engine, item.setting)
        where = f"{name}, {item.size_mb} MiB, {item.compression}, data {item.data}"
        notes = [memory_note(item), nodes_note(item)]
        tutorial, note = is_tutorial(item.backend, item.engine, item.setting), "; ".join(filter(None, notes))
        ratio = compression_ratio(item)
        sure = {"spread": float(getattr(item, "reduce_spread", math.nan)), "others_busy": busy_of(item),
                "host": host_of(item)}  # fmt: skip
        rows.append(Headline("hugearray", "reduce an array larger than memory", name,
                             f"out-of-core reduce ({where}, {ratio:.2f}x compressed)",
                             float(item.reduce_gbps), "GB/s", read, threads, tutorial=tutorial, note=note,
                             compression_ratio=ratio, setting=item.setting, nodes=worker_threads(item),
                             **sure, **described(item, "reduce")))  # fmt: skip
    return rows


def nodes_note(item) -> str:
    """Engine dask_distributed: where its workers ran (the summary bounds it by their nodes)."""
    nodes = sorted(set(str(getattr(item, "worker_nodes", "") or "").split(";")) - {"", "nan"})
    if item.engine != "dask_distributed" or not nodes:
        return ""
    return (f"{int(item.workers)} workers on {len(nodes)} node(s) ({', '.join(nodes)}), peak RSS "
            f"{item.worker_peak_rss_mb} MiB each; bounded by the limits of those nodes, each measured "
            "on it (node_limits.csv), nodes of one machine counted once")  # fmt: skip


def worker_threads(item) -> str:
    """The "node:threads;..." of a dask_distributed row's workers ("" for other engines); a
    thread count the row does not give is 0 (the summary then takes the bound as a reference)."""
    if getattr(item, "engine", "") != "dask_distributed":
        return ""
    nodes = [n for n in str(getattr(item, "worker_nodes", "") or "").split(";") if n and n != "nan"]
    counts = [c for c in str(getattr(item, "worker_threads", "") or "").split(";") if c and c != "nan"]
    if len(counts) != len(nodes):
        counts = ["0"] * len(nodes)
    on: dict[str, int] = {}
    for node, count in zip(nodes, counts, strict=True):
        on[node] = on.get(node, 0) + int(float(count))
    return ";".join(f"{node}:{count}" for node, count in sorted(on.items()))


HOW = {  # backend -> (what a user types, its recipe in docs/recipes)
    "tables_filter": (
        "h5.create_earray('/', 'data', ..., filters=tables.Filters(complib='blosc2:lz4'))",
        "hugearray_tables",
    ),
    "h5py_filter": ("h5.create_dataset('data', ..., **hdf5plugin.Blosc2(cname='lz4'))", "hugearray_h5py"),
    # pipeline stores: the same files, chunks compressed on the job's threads past the filter
    "tables": (
        "the same file, each chunk a blosc2.compress2 frame written by table.write_chunk",
        "hugearray_tables",
    ),
    "h5py": ("the same file, each chunk a blosc2 frame by dataset.id.write_direct_chunk", "hugearray_h5py"),
    "memmap": ("np.lib.format.open_memmap('a.npy', mode='w+', ...)", "hugearray_memmap"),
    "zarr": (
        "zarr.create_array('a.zarr', ..., chunks=(chunk_rows, columns), config={'write_empty_chunks': True})",
        "hugearray_zarr",
    ),
    "blosc2": ("blosc2.empty(shape, urlpath='a.b2nd', cparams=...)", "hugearray_blosc2"),
}
ENGINE_HOW = {"dask": ("da.from_array(dataset, chunks=...).mean(axis=0).compute()", "hugearray_dask")}


def described(item, step: str) -> dict:
    """What the decision reads: question, data, how, recipe, file size."""
    engine = getattr(item, "engine", "threads")
    call, recipe = ENGINE_HOW.get(engine, ("", "")) if step == "reduce" else ("", "")
    if not call:
        call, recipe = HOW.get(item.backend, ("", ""))
    question = (f"write {item.size_mb} MiB block by block, fsync included" if step == "write"
                else f"reduce {item.size_mb} MiB out of core (sum, min, max per column)")  # fmt: skip
    return {"question": question, "data": str(item.data), "how": call, "recipe": recipe,
            "file_bytes": float(item.file_bytes)}  # fmt: skip


def memory_note(item) -> str:
    if item.bounded == "NO":
        return (
            f"peak RSS grew {item.rss_growth_mb:.0f} MiB from the smallest array "
            f"(bounded means under {GROWTH_LIMIT_MB} MiB): not shown to be out of core"
        )
    return ""
