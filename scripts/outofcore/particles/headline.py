"""The particle stage's headline: the figures a reader sees first, each with its limit, the
question it answers (rows returned, row order), its data, the call a user types and its
recipe (docs/recipes/), read by the summary and the "what to use" decision."""

import dataclasses
import math
from collections.abc import Sequence

import pandas as pd

from outofcore.particles.bench import configured, with_settings
from outofcore.particles.formats.registry import FORMATS
from outofcore.particles.questions import WRITE_HEAVY, share_headlines, write_once_headlines
from outofcore.plan.sizing import PARTICLE_BYTES
from outofcore.plan.units import GB
from outofcore.summary.headline import Headline

STORE_HEADLINES = [  # (step, method, format, setting, job, label, what it is), from the registry
    *[("fill", w.method, entry.name, w.setting, "store a table", w.label, f"table write, {w.label}")
      for entry in FORMATS.values() for w in entry.writers],
    *[("query", engine.name, entry.name, entry.output.setting, "query a table", engine.headline,
       engine.figure)
      for entry in FORMATS.values() for engine in entry.engines],
]  # fmt: skip
# What a user types for each method, and its recipe (docs/recipes/<name>.py); a registered
# writer's own code (per setting) says it better where it has one
WRITER_CODE = {(w.method, w.setting): w.code for entry in FORMATS.values() for w in entry.writers if w.code}
HOW = {
    "chunks": ("table.truncate(n); table.write_chunk((start,), chunk)", "pytables_direct_chunks"),
    "block": ("table.append(records[start:start + 2**20])", "pytables_append"),
    "row": ("row = table.row; row['name'] = ...; row.append()", ""),
    "parquet_write": ("pq.write_table(t, 'f.parquet', row_group_size=65536)", "parquet_write"),
    "polars_write": (
        "df.write_parquet('f.parquet', compression='snappy', row_group_size=65536)",
        "polars_write",
    ),
    "duckdb_write": ("COPY t TO 'f.parquet' (FORMAT parquet, DICTIONARY_SIZE_LIMIT 1)", "duckdb_write"),
    "append": ("h5.create_table(..., filters=tables.Filters(...)); table.append(block)", "pytables_append"),
    "hdfstore_write": ("df.to_hdf('f.h5', key='t', format='table', data_columns=[...])", "hdfstore_write"),
    "where": ("table.read_where('(20 <= pressure) & (pressure < 50)')", "pytables_where"),
    "read_where": ("table.read_where('(20 <= pressure) & (pressure < 50)')", "pytables_where"),
    "read_numpy": (
        "t = table.read(); t[(t['pressure'] >= lo) & (t['pressure'] < hi)]",
        "pytables_read_mask",
    ),
    "indexed_read_where": (
        "table.cols.pressure.create_csindex(); table.read_where(query)",
        "pytables_indexed_where",
    ),
    "indexed": ("table.cols.pressure.create_csindex(); table.read_where(query)", "pytables_indexed_where"),
    "iterrows": ("[r for r in table.iterrows() if 20 <= r['pressure'] < 50]", ""),
    "duckdb": ("duckdb.sql(\"SELECT * FROM 'f.parquet' WHERE ...\")", "duckdb_parquet_query"),
    "polars": ("pl.scan_parquet('f.parquet').filter(...).collect()", "polars_parquet_query"),
    "arrow": ("ds.dataset('f.parquet').to_table(filter=...)", "arrow_dataset_query"),
    "hdfstore": ("pd.read_hdf('f.h5', 't', where='(pressure >= 20) & (pressure < 50)')", "hdfstore_select"),
    "pandas": ("pd.read_hdf(...).query('(20 <= pressure) & (pressure < 50)')", "pandas_query"),
    "pandas_bytes": ("pd.DataFrame(table.read()).query(...)", "pandas_query"),
}


def question_of(row: pd.Series, nrows: int) -> str:
    """The user's question a query row answers: how many rows it returns, and their order."""
    matches = row.get("matches", math.nan)
    share = (
        f"{matches:,.0f} of {nrows:,} rows ({100 * matches / nrows:.2g} %)"
        if pd.notna(matches)
        else f"{nrows:,} rows"
    )
    return f"query {share}, rows {row.get('order', 'sorted')}"


def table_data(nrows: int) -> str:
    return f"particle table of {nrows:,} rows, {nrows * PARTICLE_BYTES / 1e6:.3g} MB"


def headline(tables: Sequence[pd.DataFrame], threads: int) -> list[Headline]:
    """From the largest table (it says most about throughput): the fills (the delivered
    table's, block appends, the tutorial's row by row) and the other stores' writes
    against `np.save` of the same records in the same job; per row order (sorted as
    generated, shuffled), the in-kernel `where` scan, the indexed `where`, the
    tutorial's `iterrows` and the other stores' engines against warm-read bandwidth
    (GB/s of the whole table, the figure a full scan is bounded by; a reference for
    what may skip rows); and the same-job comparisons a user choosing a method reads:
    `where` against a full `table.read()`, `iterrows` against `where`, pandas' query
    against `where` + `table.read()`. Each row names its question (rows returned, row
    order), its data, the call and its recipe."""
    timings = max(tables, key=lambda t: t["rows"].max())
    if "order" not in timings:
        timings = timings.assign(order="sorted")
    shares = timings[timings["selectivity"].notna()] if "selectivity" in timings else timings.iloc[:0]
    timings = configured(timings)
    sorted_rows = timings[timings["order"] == "sorted"]
    pytables = sorted_rows[sorted_rows["format"].isin(["pytables", "npy", "raw"])].set_index(
        ["step", "method"]
    )
    nrows = int(pytables.loc[("fill", "block"), "rows"])
    where = f"{nrows:,} rows"
    rows = pytables_headlines(pytables, where, threads)
    save, limit = fill_bound(pytables)
    for order, frame in timings.groupby("order", sort=False):
        by = frame.set_index(["step", "method", "format"])
        if order != "sorted":
            for method, label in (("where", "where"), ("indexed", "indexed where")):
                if ("query", method, "pytables") in by.index:
                    row = by.loc[("query", method, "pytables")]
                    figure = f"in-kernel {label} query ({where}, {order} rows)"
                    rows.append(query_headline(row, method, label, figure,
                                               nrows, threads))  # fmt: skip
        frame = with_settings(frame)
        for step, method, fmt, setting, job, label, figure in STORE_HEADLINES:
            if step == "fill" and order != "sorted":
                continue  # the shuffled rows' writes: the outputs' writers only, timed once
            match = frame[(frame["step"] == step) & (frame["method"] == method) & (frame["format"] == fmt)
                          & (frame["setting"] == setting)]  # fmt: skip
            for _, row in match.iterrows():  # none if the format was left out
                if step == "fill":
                    value = float(row["rows_per_s"]) * PARTICLE_BYTES / GB
                    rows.append(
                        Headline("particles", job, label, f"{figure} ({where})", value, "GB/s", save, 1,
                                 limit_value=limit, note=f"{int(row['file_bytes'])} bytes",
                                 **described(row, step, method, nrows, value))
                    )  # fmt: skip
                else:
                    rows.append(
                        query_headline(
                            row, method, label, f"{figure} ({where}, {order} rows)", nrows, threads
                        )
                    )
    rows += share_headlines(with_settings(shares), nrows, threads)
    bare = ("fill", "page_cache") if ("fill", "page_cache") in pytables.index else ("fill", "limit")
    bare_seconds = float(pytables.loc[bare, "seconds"]) * nrows / float(pytables.loc[bare, "rows"])
    bare_name = f"{save} (seconds)"  # the time of a bare write of the same bytes: a reference
    rows += write_once_headlines(with_settings(sorted_rows), nrows, table_data(nrows), HOW,
                                 (bare_name, bare_seconds), WRITER_CODE)  # fmt: skip
    host = timings["host"].dropna().astype(str) if "host" in timings else pd.Series(dtype=str)
    return [dataclasses.replace(row, host=host.iloc[0]) for row in rows] if len(host) else rows


def query_headline(
    row: pd.Series, method: str, label: str, figure: str, nrows: int, threads: int, **extra: object
) -> Headline:
    """A query that statistics or an index may let skip rows: warm read as a reference.
    `extra`: more Headline fields (summary=False for a decision candidate only)."""
    value = float(row["rows_per_s"]) * PARTICLE_BYTES / GB
    used = int(row["threads"]) if pd.notna(row.get("threads", math.nan)) else threads
    return Headline("particles", "query a table", label, figure, value, "GB/s", "warm_read", used,
                    note="statistics or an index may skip most rows",
                    bound="reference",  # a query that skips rows is not bounded by reading them all
                    **described(row, "query", method, nrows, value), **extra)  # fmt: skip


def described(row: pd.Series, step: str, method: str, nrows: int, value: float) -> dict:
    """What the decision reads from a timing row: how sure (spread, samples' range, the
    job's others_busy), what it answers (question, data), how (the call, the recipe),
    the file's size and the setting where the table names one."""

    def number(key: str) -> float:  # NaN for a missing or empty cell
        found = row.get(key, math.nan)
        return math.nan if pd.isna(found) else float(found)

    seconds = number("seconds")
    fields = {key: number(key) for key in ("spread", "others_busy", "file_bytes")}
    fields["value_low"] = value * seconds / number("seconds_max")
    fields["value_high"] = value * seconds / number("seconds_min")
    setting = row.get("setting", "")
    setting = "pipeline" if pd.isna(setting) or setting == "" else str(setting)  # a table without settings
    how, recipe = HOW.get(method, ("", ""))
    how = WRITER_CODE.get((method, setting), WRITER_CODE.get((method, "default"), how))
    if step == "query":  # a series of shares of the rows per order (the verdict tells it in one phrase)
        fields |= {"question": question_of(row, nrows), "share": number("matches") / nrows}
        fields["variant"] = f"rows {row.get('order', 'sorted')}"
    else:
        fields["question"] = WRITE_HEAVY
    return fields | {"how": how, "recipe": recipe, "data": table_data(nrows), "setting": setting}


BOUND = "page-cache write of the same bytes into a preallocated file, same job"


def fill_bound(pytables: pd.DataFrame) -> tuple[str, float]:
    """(name, GB/s) of the fills' bound: the same bytes written into a file already
    allocated (`page_cache`), which every fill does and more; tables timed before that
    row existed fall back to `np.save`, which creates and grows a new file (a fill that
    preallocates can beat it: then it is no bound). Its rate is that of its fastest sample,
    as for every limit (other processes only slow it down): the median of a write through
    the page cache is often slowed by writeback, and then a fill's median beat it."""
    key = ("fill", "page_cache") if ("fill", "page_cache") in pytables.index else ("fill", "limit")
    name = BOUND if key[1] == "page_cache" else "np.save of the same array"
    row = pytables.loc[key]
    fastest = float(row.get("seconds_min", math.nan))
    sampled = math.isfinite(fastest) and fastest > 0
    rate = float(row["rows"]) / fastest if sampled else float(row["rows_per_s"])
    return name, rate * PARTICLE_BYTES / GB


def pytables_headlines(pytables: pd.DataFrame, where: str, threads: int) -> list[Headline]:
    """PyTables' own rows (sorted order): fills against np.save, scans against warm reads
    and each other."""
    nrows = int(pytables.loc[("fill", "block"), "rows"])

    def gbps(step: str, method: str) -> float:
        return float(pytables.loc[(step, method), "rows_per_s"]) * PARTICLE_BYTES / GB

    def seconds(method: str) -> float:
        return float(pytables.loc[("query", method), "seconds"])

    def has(method: str) -> bool:
        return ("query", method) in pytables.index

    def ran_on(method: str) -> int:  # the threads its numexpr ran on (scans: one)
        used = pytables.loc[("query", method)].get("threads", math.nan)
        return int(used) if pd.notna(used) else threads

    def sure(step: str, method: str) -> dict:
        return described(pytables.loc[(step, method)], step, method, nrows, gbps(step, method))

    save, limit = fill_bound(pytables)
    rows = []
    if ("fill", "page_cache") in pytables.index:  # np.save beside the bound: the reference users know
        rows.append(
            Headline("particles", "store a table", "np.save", f"np.save of the same array ({where})",
                     gbps("fill", "limit"), "GB/s", save, 1, limit_value=limit, decide=False,
                     note="a new file grown as it is written: what users know as a file write",
                     **sure("fill", "limit"))
        )  # fmt: skip
    if ("fill", "chunks") in pytables.index:  # uncompressed: the delivered table's own fill
        rows.append(
            Headline("particles", "store a table", "direct chunk writes",
                     f"table fill, direct chunk writes: the delivered table ({where})",
                     gbps("fill", "chunks"), "GB/s", save, 1, limit_value=limit, **sure("fill", "chunks"))
        )  # fmt: skip
    if ("fill", "append") in pytables.index:  # what a user types, beside the tuned block appends
        rows.append(
            Headline("particles", "store a table", "table.append (as typed)",
                     f"table fill, table.append as typed: create_table, tables.Filters ({where})",
                     gbps("fill", "append"), "GB/s", save, 1, limit_value=limit, **sure("fill", "append"))
        )  # fmt: skip
    rows += [
        Headline("particles", "store a table", "block appends", f"table fill, block appends ({where})",
                 gbps("fill", "block"), "GB/s", save, 1, limit_value=limit, **sure("fill", "block")),
        Headline("particles", "store a table", "row by row", f"table fill, row by row ({where})",
                 gbps("fill", "row"), "GB/s", save, 1, limit_value=limit, tutorial=True,
                 **sure("fill", "row")),
        Headline("particles", "query a table", "where", f"in-kernel where query ({where} scanned)",
                 gbps("query", "where"), "GB/s", "warm_read", ran_on("where"), **sure("query", "where")),
        Headline("particles", "query a table", "iterrows", f"iterrows query ({where} scanned)",
                 gbps("query", "iterrows"), "GB/s", "warm_read", 1, tutorial=True,
                 **sure("query", "iterrows")),
    ]  # fmt: skip
    if has("indexed"):
        rows.append(query_headline(pytables.loc[("query", "indexed")], "indexed",
                                   "indexed where", f"in-kernel indexed where query ({where}, sorted rows)",
                                   nrows, threads))  # fmt: skip
    if has("read"):  # same-job comparisons: references, not bounds
        rows.append(
            Headline("particles", "query a table", "where", f"in-kernel where against table.read() ({where})",
                     gbps("query", "where"), "GB/s", "table.read() of the same table", ran_on("where"),
                     limit_value=gbps("query", "read"), bound="reference", **sure("query", "where"))
        )  # fmt: skip
    rows.append(
        Headline("particles", "query a table", "iterrows", f"iterrows against in-kernel where ({where})",
                 gbps("query", "iterrows"), "GB/s", "in-kernel where, same job", 1,
                 limit_value=gbps("query", "where"), tutorial=True, bound="reference",
                 **sure("query", "iterrows"))
    )  # fmt: skip
    if has("read"):
        both = seconds("where") + seconds("read")  # find the rows, then read them all: pandas' work
        scan = gbps("query", "where") * seconds("where") / both
        for method, how in (("pandas_bytes", "names as Arrow bytes"), ("pandas", "read_hdf, names as str")):
            if has(method):
                rows.append(
                    Headline("particles", "query a table", f"pandas query ({how})",
                             f"pandas query, {how}, against where + table.read() ({where})",
                             gbps("query", method), "GB/s", "where + table.read(), same job", ran_on(method),
                             limit_value=scan, bound="reference", **sure("query", method))
                )  # fmt: skip
    return rows
