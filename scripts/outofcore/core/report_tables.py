"""Tables a reader can read in the report: every CSV also as an HTML table.

Snakemake's report offers a CSV only as a download; an HTML file it shows inline. The
HTML is pandas' `Styler`: the unit of each column in its header, numbers to 3
significant digits with thousands separators, integers exact, and the CSV itself
embedded as a download link, so the data stays one click away inside the report.
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

STYLE = """
body { font-family: system-ui, sans-serif; font-size: 14px; margin: 0.5em; color: #222; }
h1 { font-size: 1.2em; margin: 0.2em 0 0.5em; }
p { max-width: 60em; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; }
th { background: #f3f3f3; text-align: left; position: sticky; top: 0; }
td { text-align: right; font-variant-numeric: tabular-nums; }
"""


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
    unit = units.get(column, COLUMN_UNITS.get(column))
    return f"{column} [{unit}]" if unit else column


def table_html(frame: pd.DataFrame, title: str, intro: str = "", csv_name: str = "",
               units: dict[str, str] | None = None) -> str:  # fmt: skip
    """A whole HTML page: title, introduction (the caller's HTML), the table and a link to
    the CSV itself; every cell, header and the title are escaped."""
    units = units or {}
    shown = frame.rename(columns={c: header(c, units) for c in frame.columns})
    text = [c for c, column in zip(shown.columns, frame.columns, strict=True)
            if not pd.api.types.is_numeric_dtype(frame[column])]  # fmt: skip
    # Cells and headers escaped: a file name or label is text, never markup in the report.
    styler = shown.style.format(cell, escape="html").format_index(escape="html", axis=1)
    styler = styler.hide(axis="index").set_uuid("table")  # same bytes each run
    if text:
        styler = styler.set_properties(subset=text, **{"text-align": "left"})
    body = styler.to_html(doctype_html=False, exclude_styles=False)
    link = ""
    if csv_name:
        data = base64.b64encode(frame.to_csv(index=False).encode()).decode()
        link = (f'<p><a download="{html.escape(csv_name)}" href="data:text/csv;base64,{data}">'
                f"{html.escape(csv_name)}</a> (the same table as CSV, full precision)</p>")  # fmt: skip
    intro_html = f"<p>{intro}</p>" if intro else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{intro_html}{body}{link}"
        "</body></html>\n"
    )


def write_table(frame: pd.DataFrame, csv_path: str | Path, html_path: str | Path, title: str,
                intro: str = "", units: dict[str, str] | None = None) -> None:  # fmt: skip
    """The CSV and its HTML page, each written atomically."""
    write_csv(frame, csv_path)
    page = table_html(frame, title, intro, Path(csv_path).name, units)
    with atomic_output(html_path) as tmp:
        tmp.write_text(page, encoding="utf-8")
