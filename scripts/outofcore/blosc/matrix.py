"""The filter x codec matrix: per data source, every method/codec/filter at the largest size
and the most threads, its Pareto front, and the three picks a user asks for.

The rule of the picks, among the pickle-free methods (compress_ptr, blosc2) and lossless
pipelines (a lossy one changes the data: it is plotted, never picked):
- round trip GB/s = uncompressed bytes / (compress seconds + decompress seconds);
- points that gain less than 5 % (ratio < 1.05) are left out while any point gains more:
  a copy that does not compress is not a compression pick;
- the Pareto front: points no other point beats on both ratio and round-trip GB/s;
- fastest = the highest round-trip GB/s; smallest = the highest ratio (ties: faster);
- balanced = the front point with the highest ratio x round-trip GB/s (equal weight to
  both on the log-log plot: the front point touched first by a line of slope -1).
"""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from outofcore.blosc.figures import OPERATION_LIMIT, SAFE_METHODS, bandwidth
from outofcore.blosc.rows import MEMCPY
from outofcore.plan.units import GB
from outofcore.summary.headline import Headline

PICKS = ("fastest", "smallest", "balanced")
MIN_GAIN = 1.05
RULE = (
    "pickle-free and lossless only, ratio >= 1.05 where any is, largest n and most threads; "
    "fastest = highest round-trip GB/s (bytes / (compress + decompress seconds)), "
    "smallest = highest ratio, balanced = the Pareto front point with the highest ratio x round-trip GB/s"
)


def points(sweep: pd.DataFrame) -> pd.DataFrame:
    """One row per (data, method, codec, filters) at each source's largest size and the
    sweep's most threads: ratio, compress/decompress/round-trip GB/s, max error."""
    rows = sweep[sweep["method"] != MEMCPY]
    threads = rows["threads"].max()
    rows = rows[rows["threads"] == threads]
    rows = rows[rows["size"] == rows.groupby("data")["size"].transform("max")]
    key = ["data", "method", "codec", "filters"]
    both = rows.pivot_table(index=key, columns="operation", values=["seconds", "gbps"], aggfunc="first")
    table = pd.DataFrame(
        {
            "compress_gbps": both[("gbps", "compress")],
            "decompress_gbps": both[("gbps", "decompress")],
            "seconds": both[("seconds", "compress")] + both[("seconds", "decompress")],
        }
    ).reset_index()
    more = [column for column in ("spread", "others_busy") if column in rows]
    extra = rows[rows["operation"] == "compress"][
        [*key, "size", "nbytes", "ratio", "max_error", "threads", *more]
    ]
    table = table.merge(extra, on=key)
    for column in more:  # read back with keep_default_na=False: an unknown value is ""
        table[column] = pd.to_numeric(table[column], errors="coerce")
    table["roundtrip_gbps"] = table["nbytes"] / table["seconds"] / GB
    table["lossy"] = table["filters"].str.contains("trunc_prec")
    table["label"] = table["method"] + "/" + table["codec"] + "/" + table["filters"]
    return table.sort_values(key, ignore_index=True)


def pareto(table: pd.DataFrame, speed: str = "roundtrip_gbps") -> pd.Series:
    """True where no other row has at least the ratio and the speed, and more of one."""
    ratio, rate = table["ratio"].to_numpy(), table[speed].to_numpy()
    return pd.Series(
        [
            not (((ratio >= r) & (rate >= s)) & ((ratio > r) | (rate > s))).any()
            for r, s in zip(ratio, rate, strict=True)
        ],
        index=table.index,
    )


def candidates(here: pd.DataFrame) -> pd.DataFrame:
    """The points a pick may be: pickle-free, lossless, and gaining where any point gains."""
    safe = here[here["method"].isin(SAFE_METHODS) & ~here["lossy"]]
    gaining = safe[safe["ratio"] >= MIN_GAIN]
    return gaining if len(gaining) else safe


def picks(table: pd.DataFrame) -> pd.DataFrame:
    """Per data source, the fastest, smallest and balanced candidate (see the module's rule)."""
    chosen = []
    for data, here in table.groupby("data", sort=False):
        candidates_ = candidates(here)
        if candidates_.empty:
            continue
        front = candidates_[pareto(candidates_)]
        fastest = candidates_.sort_values(["roundtrip_gbps", "ratio"]).iloc[-1]
        smallest = candidates_.sort_values(["ratio", "roundtrip_gbps"]).iloc[-1]
        balanced = front.loc[(front["ratio"] * front["roundtrip_gbps"]).idxmax()]
        for pick, row in zip(PICKS, (fastest, smallest, balanced), strict=True):
            chosen.append({"data": data, "pick": pick, **row.drop("data").to_dict()})
    return pd.DataFrame(chosen)


def headline(sweep: pd.DataFrame) -> list[Headline]:
    """The picks of every data source as headline rows: compression GB/s against the
    memory read bandwidth over as many threads (its fastest sample, measured by the same
    jobs), with the ratio and the decompression speed in the figure's words."""
    if "data" not in sweep.columns or "filters" not in sweep.columns:
        return []
    rows = []
    for pick in picks(points(sweep)).itertuples(index=False):
        figure = (
            f"{pick.data}: {pick.pick} {pick.label}, ratio {pick.ratio:.3g}, compress "
            f"{pick.compress_gbps:.3g} / decompress {pick.decompress_gbps:.3g} GB/s "
            f"(n={pick.size:,}, {pick.threads} threads)"
        )
        job = f"compress {pick.data} data: {pick.pick}"
        kind, threads = OPERATION_LIMIT["compress"], int(pick.threads)
        limit = bandwidth(sweep, kind, threads, best=True)
        rows.append(
            Headline("blosc", job, pick.label, figure, float(pick.compress_gbps), "GB/s",
                     f"{kind}_{threads}t", threads, note=RULE,
                     limit_value=math.nan if limit is None else limit,
                     spread=float(getattr(pick, "spread", math.nan)),
                     others_busy=float(getattr(pick, "others_busy", math.nan)))
        )  # fmt: skip
    return rows


def matrix(sweep: pd.DataFrame) -> Figure:
    """Per data source (rows): ratio against compress and decompress GB/s (columns), one
    point per method/codec/filters, the Pareto front of the pickable points (pickle-free,
    lossless) as a line. Colour: codec; marker: blosc2's filters, + for compress_ptr."""
    table = points(sweep)
    sources = list(dict.fromkeys(table["data"])) or ["(no data)"]
    fig, axes = plt.subplots(
        len(sources), 2, figsize=(13, 4.2 * len(sources)), squeeze=False, layout="constrained"
    )
    filters = sorted(table["filters"].unique())
    markers = dict(zip(filters, "osD^v<>pP*hX" * 8, strict=False))
    codecs = sorted(table["codec"].unique())
    colors = {codec: f"C{i}" for i, codec in enumerate(codecs)}
    copy_rate = bandwidth(sweep, "copy")  # over the most threads measured
    for row, data in enumerate(sources):
        here = table[table["data"] == data]
        for col, (speed, name) in enumerate(
            (("compress_gbps", "compress"), ("decompress_gbps", "decompress"))
        ):
            ax = axes[row][col]
            for item in here.itertuples(index=False):
                face = "none" if item.lossy or item.method == "pack_array" else colors[item.codec]
                marker = "P" if item.method == "compress_ptr" else markers[item.filters]
                ax.scatter(getattr(item, speed), item.ratio, marker=marker, s=45,
                           facecolors=face, edgecolors=colors[item.codec])  # fmt: skip
            pickable = candidates(here)
            front = pickable[pareto(pickable, speed)].sort_values(speed)
            ax.step(front[speed], front["ratio"], where="post", color="black", linewidth=1, alpha=0.6)
            if copy_rate is not None:
                ax.axvline(copy_rate, color="gray", linestyle="--", linewidth=1)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(f"{name} GB/s (uncompressed bytes)")
            ax.set_ylabel("compression ratio")
            size = int(here["size"].max()) if len(here) else 0
            ax.set_title(f"{data}: {name}, n={size:,}")
            ax.grid(True, which="major", alpha=0.3)
    handles = [
        plt.Line2D([], [], marker="o", linestyle="", color=colors[c], label=f"codec {c}") for c in codecs
    ] + [
        plt.Line2D([], [], marker=markers[f], linestyle="", color="gray", label=f"filters {f}")
        for f in filters
    ]
    handles += [
        plt.Line2D([], [], marker="P", linestyle="", color="gray", label="compress_ptr (shuffle)"),
        plt.Line2D([], [], color="black", label="Pareto front (pickle-free, lossless)"),
        plt.Line2D([], [], color="gray", linestyle="--", label="memcpy"),
        plt.Line2D([], [], marker="o", linestyle="", markerfacecolor="none", color="gray",
                   label="hollow: lossy filter or pack_array (pickle)"),
    ]  # fmt: skip
    fig.legend(handles=handles, fontsize="small", loc="outside lower center", ncols=4)
    fig.suptitle("Filter x codec matrix: compression ratio against speed, per data source")
    return fig
