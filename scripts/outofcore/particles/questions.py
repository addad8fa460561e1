"""The questions a user asks of a table beyond one query, as decision candidates (kept
out of the summary's figures):

- the shares of the rows (`particles.queries`): per order and share, every store's
  method, told in the verdict from the smallest share to the largest;
- "write once, read many": each store written once (with its index where its query uses
  one) then queried `READS` times with the configured query on sorted rows, ranked by
  the total time; "write-heavy" (the fills' own question) ranks by the write alone.
"""

import math

import pandas as pd

from outofcore.particles.formats.registry import FORMATS
from outofcore.summary.headline import Headline

READS = 100  # selective queries over a file's life in "write once, read many"
WRITE_HEAVY = "write-heavy (ranked by the write)"
WRITE_ONCE = f"write once, read many (ranked by write + index + {READS} selective queries)"
SHARE_LABELS = {  # the methods timed on the shares of the rows, named as on the configured query
    "read_where": "where",
    "indexed_read_where": "indexed where",
    "read_numpy": "table.read() + NumPy mask",
    **{engine.name: engine.headline for entry in FORMATS.values() for engine in entry.engines},
}


def share_headlines(shares: pd.DataFrame, nrows: int, threads: int) -> list[Headline]:
    """Per order and share of the rows, every store's method (NumPy in memory is no
    store: timed, not a candidate): decision candidates only."""
    from outofcore.particles.headline import query_headline  # it imports this module

    rows = []
    for _, row in shares.iterrows():
        label = SHARE_LABELS.get(row["method"])
        if label is not None:
            share = f"{100 * float(row['selectivity']):g} % of the rows"
            figure = f"{row['method']} query ({nrows:,} rows, {row['order']} rows, {share})"
            rows.append(query_headline(row, row["method"], label, figure, nrows, threads, summary=False))
    return rows


def _stores() -> list[tuple[tuple[str, str, str], str, str, list[tuple[str, str, bool]]]]:
    """(write key, write label, file format, [(read method, read label, needs the index)])
    per store whose file the job queries: PyTables' delivered table (direct chunks or block
    appends write the same table) and each format's output file."""
    pytables = [("where", "where", False), ("indexed", "indexed where", True)]
    stores = [(("chunks", "pytables", "pipeline"), "PyTables direct chunk writes", "pytables", pytables),
              (("block", "pytables", "tuned"), "PyTables block appends", "pytables", pytables)]  # fmt: skip
    for entry in FORMATS.values():
        writer = entry.output
        reads = [(engine.name, engine.headline, False) for engine in entry.engines]
        stores.append(((writer.method, entry.name, writer.setting), writer.label, entry.name, reads))
    return stores


def write_once_headlines(
    timings: pd.DataFrame,
    nrows: int,
    data: str,
    how: dict[str, tuple[str, str]],
    bound: tuple[str, float],
    code: dict[tuple[str, str], str],
) -> list[Headline]:
    """Write once, read many (sorted rows, the configured query): per store and reader,
    write (+ index build) + READS queries, in seconds (the lowest wins; the samples' range
    from the sums of the fastest and of the slowest samples). `bound`: seconds of the
    (name, seconds) of a bare write of the same bytes, a reference. The tutorial's way: the row loop's
    fill (extrapolated to the table) and READS `iterrows` queries. `how`: method -> (call,
    recipe); `code`: (writer, setting) -> the call, where a registered writer has one."""
    by = timings.assign(setting=timings["setting"].fillna("pipeline"))

    def get(step: str, method: str, fmt: str, setting: str = "") -> pd.Series | None:
        found = by[(by["step"] == step) & (by["method"] == method) & (by["format"] == fmt)]
        found = found[found["setting"] == setting] if setting else found
        return found.iloc[0] if len(found) else None

    def scaled(row: pd.Series) -> tuple[float, float, float]:  # (median, fastest, slowest) for the table
        factor, median = nrows / float(row["rows"]), float(row["seconds"])
        samples = (_number(row, "seconds_min"), _number(row, "seconds_max"))
        return tuple(factor * (median if math.isnan(s) else s) for s in (median, *samples))

    rows = []
    for (method, fmt, setting), label, read_format, reads in _stores():
        write = get("fill", method, fmt, setting)
        if write is None:
            continue
        index = get("query", "create_csindex", read_format)
        for reader, reader_label, indexed in reads:
            read = get("query", reader, read_format)
            if read is None or (indexed and index is None):
                continue
            queries = tuple(READS * x for x in scaled(read))
            parts = [scaled(write), *([scaled(index)] if indexed else []), queries]
            total, low, high = (sum(p[i] for p in parts) for i in range(3))
            written = f"write {parts[0][0]:.3g} s" + (f", index {parts[1][0]:.3g} s" if indexed else "")
            written += f", query {float(read['seconds']):.3g} s"
            rows.append(
                Headline("particles", "store a table", f"{label}, then {reader_label}",
                         f"{label}{' + index' if indexed else ''}, then {READS} queries by {reader_label} "
                         f"({nrows:,} rows, sorted)", total, "s", bound[0], 1, limit_value=bound[1],
                         bound="reference", note=written,
                         spread=(high - low) / total, value_low=low, value_high=high, question=WRITE_ONCE,
                         data=data, how=f"{code.get((method, setting), how.get(method, ('', ''))[0])}; "
                                        f"{how.get(reader, ('', ''))[0]}",
                         recipe=how.get(reader, ("", ""))[1], rank_by="lowest", summary=False,
                         file_bytes=_number(read, "file_bytes"), setting=setting)
            )  # fmt: skip
    row, loop = get("fill", "row", "pytables"), get("query", "iterrows", "pytables")
    if rows and row is not None and loop is not None:
        fill, query = scaled(row), scaled(loop)
        parts = [fill, tuple(READS * x for x in query)]
        total, low, high = (sum(p[i] for p in parts) for i in range(3))
        rows.append(
            Headline("particles", "store a table", "row by row, then iterrows",
                     f"row by row + {READS} iterrows queries ({nrows:,} rows, sorted)", total, "s",
                     bound[0], 1, limit_value=bound[1], bound="reference",
                     tutorial=True, spread=(high - low) / total, value_low=low, value_high=high,
                     question=WRITE_ONCE, data=data, rank_by="lowest", summary=False, setting="default")
        )  # fmt: skip
    return rows


def _number(row: pd.Series, key: str) -> float:
    value = row.get(key, math.nan)
    return math.nan if pd.isna(value) else float(value)
