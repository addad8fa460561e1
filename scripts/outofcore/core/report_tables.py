"""Tables a reader can read in the report: every CSV also as an HTML table.

Snakemake's report offers a CSV only as a download; an HTML file it shows inline. The
HTML is pandas' `Styler`: the unit of each column in its header, numbers to 3
significant digits with thousands separators, integers exact, shares (spread, others'
load) as %, byte counts as kB/MB/GB, every column sortable by a click on its header,
and the CSV itself embedded as a download link (full precision, raw bytes), so the
data stays one click away inside the report.
"""

import base64
import html
import math
from pathlib import Path
from typing import Any

import pandas as pd

from outofcore.core.files import atomic_output, write_csv

# Units of the columns the stages write; a header reads "seconds [s]".
COLUMN_UNITS = {
    "seconds": "s",
    "seconds_min": "s",
    "seconds_max": "s",
    "rows_per_s": "rows/s",
    "gbps": "GB/s",
    "write_gbps": "GB/s",
    "reduce_gbps": "GB/s",
    "write_seconds": "s",
    "reduce_seconds": "s",
    "nbytes": "bytes",
    "compressed_nbytes": "bytes",
    "file_bytes": "bytes",
    "bytes": "bytes",
    "size_mb": "MiB",
    "peak_rss_mb": "MiB",
    "pressure": "Pa",
    "energy": "J",
}

# A table wider than this shows the columns a reader needs first, the rest behind "all columns"
MAX_COLUMNS = 12
MAIN_COLUMNS = {  # by the CSV's name, for the tables whose writer names none
    "sweep.csv": ["data", "method", "codec", "filters", "setting", "threads", "size", "operation", "gbps",
                  "ratio", "spread", "others_busy"],
    "timings.csv": ["step", "method", "format", "order", "setting", "rows", "matches", "seconds",
                    "rows_per_s", "spread", "file_bytes", "others_busy"],
}  # fmt: skip

# Shares of 1 shown as % (the CSV keeps the fraction), byte counts shown as kB/MB/GB
PERCENT = {"spread", "write_spread", "reduce_spread", "others_busy"}
BYTES = {"nbytes", "compressed_nbytes", "file_bytes", "bytes"}

STYLE = """
body { font-family: system-ui, sans-serif; font-size: 14px; margin: 0.5em; color: #222; }
h1 { font-size: 1.2em; margin: 0.2em 0 0.5em; }
p { max-width: 60em; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.35em; }
th { background: #f3f3f3; text-align: left; position: sticky; top: 0; }
td { text-align: right; font-variant-numeric: tabular-nums; }
th { cursor: pointer; user-select: none; }
th:hover { background: #e4e4e4; }
details { margin: 0.6em 0; max-width: 60em; }
details.all { max-width: none; }
.wide { overflow-x: auto; }
th { overflow-wrap: anywhere; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 13px; }
"""
# A click on a header sorts by that column (numbers by value, with their units; text A-Z),
# a second click the other way. Inline: the report works offline.
SORT = """<script>
(() => {
  const scale = {"%": 1, "bytes": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12};
  const key = text => {
    // a number, then a unit (scaled) or words (as is); else text
    const m = text.trim().match(/^(-?\\d[\\d,]*\\.?\\d*(?:e[-+]?\\d+)?)\\s*(%|bytes|kB|MB|GB|TB|\\D.*)?$/s);
    return m ? parseFloat(m[1].replace(/,/g, "")) * (scale[m[2]] || 1) : null;
  };
  document.querySelectorAll("table").forEach(table => {
    table.querySelectorAll("thead th").forEach((th, column) => {
      th.title = "sort by this column";
      th.addEventListener("click", () => {
        const body = table.tBodies[0], rows = Array.from(body.rows);
        const up = th.dataset.order !== "up";
        th.dataset.order = up ? "up" : "down";
        rows.sort((a, b) => {
          const x = a.cells[column].innerText, y = b.cells[column].innerText;
          const kx = key(x), ky = key(y);
          const order = kx !== null && ky !== null ? kx - ky
            : (kx === null) - (ky === null) || x.localeCompare(y);
          return up ? order : -order;
        });
        rows.forEach(row => body.appendChild(row));
      });
    });
  });
})();
</script>"""


def percent(value: Any) -> str:
    """A share of 1 as a percentage, 3 significant digits ("5.3 %"); empty for NaN."""
    if isinstance(value, str) or value is None or (isinstance(value, float) and math.isnan(value)):
        return "" if value is None or isinstance(value, float) else value
    return f"{significant(float(value) * 100)} %"


def byte_count(value: Any) -> str:
    """A byte count in kB, MB, GB (powers of 1000, 3 significant digits)."""
    try:
        count = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(count):
        return ""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(count) >= size:
            return f"{significant(count / size)} {unit}"
    return f"{count:.0f} bytes"


def significant(value: Any) -> str:
    """3 significant digits with thousands separators; integers exact; text as is."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"):
        return f"{int(value):,}"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value) or value == 0:
            return f"{value:g}"
        digits = 3 - 1 - math.floor(math.log10(abs(value)))
        rounded = round(value, digits)
        if abs(rounded) >= 1e15 or abs(rounded) < 1e-4:
            return f"{value:.3g}"
        return f"{rounded:,.{max(digits, 0)}f}"
    return str(value)


def cell(value: Any) -> str:
    """A cell; text that is an integer (a mixed column read back) gets separators too,
    other text (versions, names) stays as written."""
    if isinstance(value, str):
        return f"{int(value):,}" if value.lstrip("-").isdigit() else value
    return significant(value)


def header(column: str, units: dict[str, str]) -> str:
    unit = units.get(column, None if column in BYTES else COLUMN_UNITS.get(column))
    return f"{column} [{unit}]" if unit else column


LONG_WORD = 16  # characters


def longest_word(values: pd.Series) -> int:
    words = values.dropna().astype(str).str.split().explode().dropna()
    return int(words.str.len().max()) if len(words) else 0


def styled(frame: pd.DataFrame, units: dict[str, str], uuid: str) -> str:
    """One table as HTML: units in the headers, numbers formatted, text left-aligned."""
    shown = frame.rename(columns={c: header(c, units) for c in frame.columns})
    text = [c for c, column in zip(shown.columns, frame.columns, strict=True)
            if not pd.api.types.is_numeric_dtype(frame[column])]  # fmt: skip
    formats = {header(c, units): percent if c in PERCENT else byte_count if c in BYTES else cell
               for c in frame.columns}  # fmt: skip
    # Cells and headers escaped: a file name or label is text, never markup in the report.
    styler = shown.style.format(formats, escape="html").format_index(escape="html", axis=1)
    styler = styler.hide(axis="index").set_uuid(uuid)  # same bytes each run
    if text:
        styler = styler.set_properties(subset=text, **{"text-align": "left"})
    # a column of long words (calls, paths) may break them anywhere so the table fits; words
    # of other text and numbers stay whole
    long = [c for c, column in zip(shown.columns, frame.columns, strict=True)
            if c in text and longest_word(frame[column]) > LONG_WORD]  # fmt: skip
    if long:
        styler = styler.set_properties(subset=long, **{"overflow-wrap": "anywhere", "min-width": "6.5em"})
    return styler.to_html(doctype_html=False, exclude_styles=False)


def main_view(frame: pd.DataFrame, main: "pd.DataFrame | list[str] | None", csv_name: str) -> pd.DataFrame:
    """The columns a reader needs first: the caller's (a list of columns, or a frame it
    composed), else MAIN_COLUMNS of the CSV's name, else the first MAX_COLUMNS."""
    if isinstance(main, pd.DataFrame):
        return main
    names = main or MAIN_COLUMNS.get(csv_name) or list(frame.columns[:MAX_COLUMNS])
    return frame[[c for c in names if c in frame.columns]]


def table_html(frame: pd.DataFrame, title: str, intro: str = "", csv_name: str = "",
               units: dict[str, str] | None = None, extra: str = "",
               main: "pd.DataFrame | list[str] | None" = None) -> str:  # fmt: skip
    """A whole HTML page: title, introduction (the caller's HTML), the table, a link to
    the CSV itself, then `extra` (the caller's HTML); every cell, header and the title
    are escaped. A table wider than MAX_COLUMNS shows the columns a reader needs
    (`main_view`) and every column in a second table behind "all N columns"."""
    units = units or {}
    if len(frame.columns) <= MAX_COLUMNS and main is None:
        body = styled(frame, units, "table")
    else:
        first = main_view(frame, main, csv_name)
        body = (f'{styled(first, units, "table")}<details class="all"><summary>all {len(frame.columns)} '
                f"columns, as in the CSV</summary><div class=\"wide\">{styled(frame, units, 'all')}</div>"
                "</details>")  # fmt: skip
    link = ""
    if csv_name:
        data = base64.b64encode(frame.to_csv(index=False).encode()).decode()
        link = (f'<p><a download="{html.escape(csv_name)}" href="data:text/csv;base64,{data}">'
                f"{html.escape(csv_name)}</a> (the same table as CSV, full precision)</p>")  # fmt: skip
    intro_html = f"<p>{intro}</p>" if intro else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{intro_html}{body}{link}{extra}"
        f"{SORT}</body></html>\n"
    )


def write_table(frame: pd.DataFrame, csv_path: str | Path, html_path: str | Path, title: str,
                intro: str = "", units: dict[str, str] | None = None, extra: str = "",
                main: "pd.DataFrame | list[str] | None" = None) -> None:  # fmt: skip
    """The CSV (every column, raw values) and its HTML page (`table_html`), each written
    atomically."""
    write_csv(frame, csv_path)
    page = table_html(frame, title, intro, Path(csv_path).name, units, extra, main)
    with atomic_output(html_path) as tmp:
        tmp.write_text(page, encoding="utf-8")
