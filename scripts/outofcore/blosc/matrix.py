"""The filter x codec matrix: per data source, every method/codec/filter at the largest size
and the most threads, its Pareto front, and the three picks a user asks for.

The rule of the picks, among the pickle-free methods as their docs advise (compress_ptr,
compress2; `blosc2` as typed is plotted, never picked) and lossless pipelines (a lossy
one changes the data: it is plotted, never picked):
- round trip GB/s = uncompressed bytes / (compress seconds + decompress seconds);
- points that gain less than 5 % (ratio < 1.05) are left out while any point gains more:
  a copy that does not compress is not a compression pick;
- the Pareto front: points no other point beats on both ratio and round-trip GB/s;
- fastest = the highest round-trip GB/s; smallest = the highest ratio (ties: faster);
- balanced = the front point with the highest ratio x round-trip GB/s (equal weight to
  both on the log-log plot: the front point touched first by a line of slope -1).
"""

import math
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from outofcore.blosc import tuned
from outofcore.blosc.figures import SAFE_METHODS, bandwidth
from outofcore.blosc.rows import MEMCPY, SETTING
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
    values = ["seconds", "gbps", *(c for c in ("seconds_min", "seconds_max") if c in rows)]
    both = rows.pivot_table(index=key, columns="operation", values=values, aggfunc="first")

    def round_trip(column: str) -> pd.Series:
        column = column if column in values else "seconds"
        return both[(column, "compress")] + both[(column, "decompress")]

    table = pd.DataFrame(
        {
            "compress_gbps": both[("gbps", "compress")],
            "decompress_gbps": both[("gbps", "decompress")],
            "seconds": round_trip("seconds"),
            "seconds_min": round_trip("seconds_min"),  # both operations' fastest samples
            "seconds_max": round_trip("seconds_max"),
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
    table["roundtrip_low"] = table["nbytes"] / table["seconds_max"] / GB
    table["roundtrip_high"] = table["nbytes"] / table["seconds_min"] / GB
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
    """The points a pick may be: pickle-free, lossless, configured as the library's docs
    advise (setting tuned: `blosc2` as typed only shows what tuning is worth), and
    gaining where any point gains."""
    tuned = here["method"].map(SETTING) == "tuned"
    safe = here[here["method"].isin(SAFE_METHODS) & ~here["lossy"] & tuned]
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


QUESTIONS = {  # pick -> the question it answers
    "fastest": "fastest round trip (compress + decompress)",
    "smallest": "smallest (highest ratio)",
    "balanced": "balanced (ratio x round-trip speed)",
}
TIE_RATIO = 0.02  # ratios within 2 % of the smallest's: a tie (the ratio is exact, data decide)


def how(method: str, codec: str, filters: str, threads: int) -> tuple[str, str]:
    """(the call a user types, its recipe) of a method/codec/filters."""
    names = ", ".join(f"blosc2.Filter.{f.split(':')[0].upper()}" for f in filters.split("+"))
    if method == "compress2":
        return (f"blosc2.compress2(a, cparams=blosc2.CParams(codec=blosc2.Codec.{codec.upper()}, "
                f"clevel=5, filters=[{names}], typesize=a.itemsize, nthreads={threads}, "
                f"blocksize={tuned.BLOCK_BYTES}))", "blosc2_compress")  # fmt: skip
    if method == "blosc2":
        return (f"blosc2.compress(a, typesize=a.itemsize, clevel=5, "
                f"filter=blosc2.Filter.{names.split('.')[-1]}, codec=blosc2.Codec.{codec.upper()})",
                "blosc2_compress")  # fmt: skip
    if method == "compress_ptr":
        return (f"blosc.compress_ptr(a.ctypes.data, a.size, a.itemsize, cname='{codec}')  "
                "# legacy python-blosc 1", "blosc_compress_ptr")  # fmt: skip
    if method == "pack_tensor":
        return (f"blosc2.pack_tensor(a, cparams=blosc2.CParams(codec=blosc2.Codec.{codec.upper()}, "
                f"clevel=5, filters=[{names}], typesize=a.itemsize, nthreads={threads}))", "")  # fmt: skip
    return f"blosc.pack_array(a, cname='{codec}')  # pickles", ""


def ties_of(pick: str, chosen: pd.Series, pool: pd.DataFrame) -> str:
    """The candidates within noise of a pick: round-trip samples that overlap (fastest),
    ratios within TIE_RATIO (smallest), ratio x speed ranges that overlap (balanced)."""
    others = pool[pool["label"] != chosen["label"]]
    if pick == "smallest":
        tied = others[others["ratio"] >= chosen["ratio"] * (1 - TIE_RATIO)]
    else:
        weight = others["ratio"] if pick == "balanced" else 1.0
        mine = chosen["ratio"] if pick == "balanced" else 1.0
        tied = others[(others["roundtrip_low"] * weight <= chosen["roundtrip_high"] * mine)
                      & (chosen["roundtrip_low"] * mine <= others["roundtrip_high"] * weight)]  # fmt: skip
    return "; ".join(tied["label"])


def headline(sweep: pd.DataFrame) -> list[Headline]:
    """Per data source, the three picks of the module's rule and the tutorial's
    pack_array (its fastest codec): round-trip GB/s (uncompressed bytes / (compress +
    decompress seconds)) against the memory read and write bandwidths over as many
    threads (fastest samples, measured by the same jobs): a round trip reads the array
    once and writes it once, so it takes at least n/read + n/write. Each with its ratio,
    the call, its recipe and the candidates tied with it."""
    if "data" not in sweep.columns or "filters" not in sweep.columns:
        return []
    table = points(sweep)
    rows = []

    def row(item, job_question: str, tutorial: bool, **extra) -> Headline:
        threads = int(item.threads)
        read, write = (bandwidth(sweep, kind, threads, best=True) for kind in ("read", "write"))
        limit = 1 / (1 / read + 1 / write) if read and write else math.nan
        plural = "s" if threads > 1 else ""
        name = f"memory read + write, {threads} thread{plural}" if read and write else f"read_{threads}t"
        call, recipe = how(item.method, item.codec, item.filters, threads)
        figure = (f"{item.data}: {job_question} {item.label}, ratio {item.ratio:.3g}, round trip "
                  f"{item.roundtrip_gbps:.3g} GB/s (compress {item.compress_gbps:.3g} / decompress "
                  f"{item.decompress_gbps:.3g}; n={item.size:,}, {threads} threads)")  # fmt: skip
        return Headline("blosc", "compress an array in memory", item.label, figure,
                        float(item.roundtrip_gbps),
                        "GB/s", name, threads,
                        limit_value=limit, tutorial=tutorial, note=RULE, compression_ratio=float(item.ratio),
                        spread=float(getattr(item, "spread", math.nan)),
                        others_busy=float(getattr(item, "others_busy", math.nan)), data=str(item.data),
                        how=call, recipe=recipe, value_low=float(item.roundtrip_low),
                        value_high=float(item.roundtrip_high),
                        question=QUESTIONS.get(job_question, job_question),
                        setting=SETTING.get(item.method, "default"), **extra)  # fmt: skip

    chosen = picks(table)
    for _, chosen_row in chosen.iterrows():
        pool = candidates(table[table["data"] == chosen_row["data"]])
        ties = ties_of(chosen_row["pick"], chosen_row, pool)
        maintained = [t for t in ties.split("; ") if t.startswith("compress2/")]
        if chosen_row["method"] == "compress_ptr" and maintained:  # the maintained API when within noise
            chosen_row = pool[pool["label"] == maintained[0]].iloc[0].copy().rename(None)
            chosen_row["pick"] = chosen.loc[_, "pick"]
            ties = ties_of(chosen_row["pick"], chosen_row, pool)
        pick = SimpleNamespace(**chosen_row.to_dict())
        rank_by = "compression_ratio" if pick.pick == "smallest" else "value"
        rows.append(row(pick, pick.pick, False, rank_by=rank_by, ties=ties))
    tutorial = table[table["method"] == "pack_array"]
    for best in (
        tutorial.sort_values("roundtrip_gbps").groupby("data", sort=False).tail(1).itertuples(index=False)
    ):
        rows.append(row(best, "the tutorial's way (pack_array)", True))
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
                # never picked: a cross (pack_array, pickle) or a tri (a lossy filter); hollow
                # means unstable in every other plot, so it is not used for these
                marker = ("x" if item.method == "pack_array" else "1" if item.lossy
                          else "P" if item.method == "compress_ptr" else markers[item.filters])  # fmt: skip
                ax.scatter(getattr(item, speed), item.ratio, marker=marker, s=45, color=colors[item.codec])
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
        plt.Line2D([], [], marker="x", linestyle="", color="gray", label="pack_array (pickle): never picked"),
        plt.Line2D([], [], marker="1", linestyle="", color="gray", label="lossy filter: never picked"),
    ]  # fmt: skip
    fig.legend(handles=handles, fontsize="small", loc="outside lower center", ncols=4)
    fig.suptitle("Filter x codec matrix: compression ratio against speed, per data source")
    return fig
