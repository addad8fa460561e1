"""Tables readable in the report: HTML pages beside the CSVs, numbers as a reader wants them."""

import base64
import re

import pandas as pd
import pytest

from outofcore.core.report_tables import significant, table_html, write_table


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234567.0, "1,230,000"),
        (0.0123456, "0.0123"),
        (12.345, "12.3"),
        (1_000_000, "1,000,000"),
        (3, "3"),
        (float("nan"), ""),
        (2.5e-7, "2.5e-07"),
    ],
)
def test_three_significant_digits_and_thousands_separators(value, text):
    assert significant(value) == text


def test_html_page_has_units_in_headers_and_embeds_the_csv(tmp_path):
    frame = pd.DataFrame({"method": ["where", "pandas"], "rows": [10**6, 10**6], "seconds": [0.01234, 7.9]})
    write_table(frame, tmp_path / "t.csv", tmp_path / "t.html", "Timings", "how it was measured")
    page = (tmp_path / "t.html").read_text()
    assert "<th" in page and "seconds [s]" in page and "1,000,000" in page and "0.0123" in page
    assert "how it was measured" in page
    link = re.search(r'download="t.csv" href="data:text/csv;base64,([^"]+)"', page)
    assert base64.b64decode(link.group(1)).decode() == (tmp_path / "t.csv").read_text()
    assert pd.read_csv(tmp_path / "t.csv")["seconds"].tolist() == [0.01234, 7.9]  # full precision
    assert table_html(frame, "Timings") == table_html(frame, "Timings")  # same bytes each run


def test_a_wide_table_shows_the_columns_a_reader_needs_and_every_column_behind_a_click(tmp_path):
    columns = {f"c{i}": [float(i) + 0.123456] for i in range(17)}
    frame = pd.DataFrame({"step": ["fill"], "method": ["row"], **columns, "seconds": [0.5]})
    write_table(frame, tmp_path / "timings.csv", tmp_path / "timings.html", "Timings")
    page = (tmp_path / "timings.html").read_text()
    first, everything = page.split('<details class="all">')
    heads = [h.split("<")[0] for h in first.split('class="col_heading level0')[1:]]
    assert [h.split(">")[-1] for h in heads] == [
        "step",
        "method",
        "seconds [s]",
    ]  # MAIN_COLUMNS of timings.csv
    assert "all 20 columns" in everything and ">16.1<" in everything
    assert pd.read_csv(tmp_path / "timings.csv").columns.tolist() == list(frame.columns)  # the CSV complete
    narrow = frame[["step", "method", "seconds"]]
    assert "<details" not in table_html(narrow, "Timings")  # a narrow table as it is
    chosen = table_html(frame, "T", main=["c3", "step"])
    assert chosen.split('<details class="all">')[0].count('class="col_heading level0') == 2
