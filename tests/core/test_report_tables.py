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
