"""The summary table: each stage's headline figures, limits from the same run."""

import pandas as pd
import pytest

from outofcore import blosc_figures, hugearray_figures, particle_figures, summary_table
from outofcore.headline import COLUMNS, headline_frame, read_headlines, write_headline

LIMITS = pd.DataFrame(
    [
        ("memcpy", 10.0, "GB/s", "x"),
        ("page_cache_write", 2.0, "GB/s", "x"),
        ("durable_write", 1.0, "GB/s", "x"),
        ("warm_read", 8.0, "GB/s", "x"),
        ("cold_read", 1.5, "GB/s", "x"),
        ("cores", 2, "count", "x"),
        ("cpu_model", "Some CPU", "text", "x"),
    ],
    columns=["name", "value", "unit", "how"],
)


def timings(nrows: int, block_rate: float) -> pd.DataFrame:
    rows = [
        ("fill", "block", block_rate),
        ("fill", "row", block_rate / 100),
        ("fill", "limit", 2 * block_rate),
        ("query", "where", 1e8),
        ("query", "iterrows", 1e6),
    ]
    return pd.DataFrame(
        [
            {"step": s, "method": m, "rows": nrows, "rows_per_s": r, "order": "sorted", "format": fmt}
            for s, m, r in rows
            for fmt in ["npy" if m == "limit" else "pytables"]
        ]
    )


SWEEP = pd.DataFrame(
    [
        # method, codec, threads, size, operation, gbps
        ("compress_ptr", "lz4", 2, 1000, "compress", 9.0),
        ("compress_ptr", "lz4", 2, 10**6, "compress", 4.0),
        ("blosc2", "zstd", 2, 10**6, "compress", 5.0),
        ("compress_ptr", "lz4", 1, 10**6, "compress", 7.0),  # fewer threads: not the point
        ("pack_array", "blosclz", 2, 10**6, "compress", 1.0),
        ("compress_ptr", "lz4", 2, 10**6, "decompress", 12.0),
        ("pack_array", "blosclz", 2, 10**6, "decompress", 1.2),
        ("memcpy", "none", 1, 10**6, "memcpy", 11.0),
    ],
    columns=["method", "codec", "threads", "size", "operation", "gbps"],
)

ARRAYS = pd.DataFrame(
    [
        ("tables", 8, "blosc2:lz4", 1.0, 4.0),
        ("tables", 64, "blosc2:lz4", 1.5, 6.0),
        ("memmap", 64, "none", 0.5, 2.0),
    ],
    columns=["backend", "size_mb", "compression", "write_gbps", "reduce_gbps"],
).assign(engine="threads", rss_growth_mb=0.0, bounded="yes")  # as hugearray_figures.load_measurements gives


def headlines(cold_read: bool = False) -> pd.DataFrame:
    return headline_frame(
        [
            *particle_figures.headline([timings(10, 1e6), timings(1000, 4e7)], threads=2),
            *blosc_figures.headline(SWEEP),
            *hugearray_figures.headline(ARRAYS, threads=2, cold_read=cold_read),
        ]
    )


@pytest.fixture
def table():
    return summary_table.summarize(LIMITS, headlines())


def test_headline_files_round_trip(tmp_path):
    rows = particle_figures.headline([timings(1000, 4e7)], threads=2)
    write_headline(rows, tmp_path / "p.csv")
    write_headline([], tmp_path / "empty.csv")
    frame = read_headlines([tmp_path / "p.csv", tmp_path / "empty.csv"])
    assert list(frame.columns) == COLUMNS and len(frame) == len(rows)
    assert frame["tutorial"].tolist() == [r.tutorial for r in rows]
    assert frame["note"].tolist() == [""] * len(rows)  # empty text stays text, not NaN


def test_a_limit_missing_from_limits_is_an_error():
    rows = headlines()
    rows.loc[0, ["limit", "limit_value"]] = ["no_such_limit", float("nan")]
    with pytest.raises(ValueError, match="no_such_limit"):
        summary_table.summarize(LIMITS, rows)


def test_columns_and_fraction_is_value_over_limit(table):
    assert list(table.columns) == summary_table.COLUMNS
    assert (table["unit"] == "GB/s").all()
    assert table["fraction_of_limit"].to_numpy() == pytest.approx(
        (table["value"] / table["limit_value"]).to_numpy()
    )


def test_particles_use_the_largest_table_and_np_save_of_the_same_job(table):
    rows = table[table["stage"] == "particles"]
    assert len(rows) == 4 and rows["figure"].str.contains("1,000 rows").all()
    fill = rows[rows["figure"].str.startswith("table fill, block")].iloc[0]
    assert fill["value"] == pytest.approx(4e7 * 36 / 1e9)
    assert fill["fraction_of_limit"] == pytest.approx(0.5)
    scan = rows[rows["figure"].str.startswith("in-kernel where")].iloc[0]
    assert scan["limit_value"] == 8.0  # warm read from limits.csv


def test_blosc_best_safe_and_baseline_at_the_largest_size_against_memcpy(table):
    rows = table[table["stage"] == "blosc"].set_index("figure")
    assert len(rows) == 4
    assert (rows["limit_value"] == 10.0).all()  # limits.csv memcpy, not the sweep's own row
    best = rows[rows.index.str.startswith("compress, best pickle-free")].iloc[0]
    assert "blosc2/zstd" in best.name and best["value"] == 5.0
    decompress = rows[rows.index.str.startswith("decompress, best")].iloc[0]
    assert decompress["fraction_of_limit"] == pytest.approx(1.2)


def test_hugearray_largest_size_per_backend(table):
    rows = table[table["stage"] == "hugearray"]
    assert len(rows) == 4 and rows["figure"].str.contains("64 MiB").all()
    reduce_tables = rows[rows["figure"].str.startswith("out-of-core reduce (tables")].iloc[0]
    assert reduce_tables["fraction_of_limit"] == pytest.approx(6.0 / 8.0)


def test_missing_stages_give_no_rows_and_plot_has_labels(table):
    assert summary_table.summarize(LIMITS, read_headlines([])).empty
    fig = summary_table.plot_fractions(table)
    ax = fig.axes[0]
    assert ax.get_title() and "fraction" in ax.get_xlabel()
    assert len(ax.patches) == len(table)


def test_cold_reduce_is_read_against_cold_read():
    table = summary_table.summarize(LIMITS, headlines(cold_read=True))
    reduce_rows = table[table["figure"].str.startswith("out-of-core reduce")]
    assert (reduce_rows["limit_value"] == 1.5).all()


def test_what_to_use_is_the_fastest_own_method_of_each_job():
    decision = summary_table.decide(LIMITS, headlines())
    assert list(decision.columns) == summary_table.DECISION_COLUMNS
    by_job = decision.set_index("job")
    assert list(by_job.index) == [  # one row per job, in the stages' order
        "store a table",
        "query a table",
        "compress an array in memory",
        "decompress an array in memory",
        "write an array larger than memory",
        "reduce an array larger than memory",
    ]
    fill = by_job.loc["store a table"]
    assert fill["method"] == "block appends" and fill["vs_tutorial"] == pytest.approx(100)
    assert fill["fraction_of_limit"] == pytest.approx(0.5)
    compress = by_job.loc["compress an array in memory"]
    assert compress["method"] == "blosc2/zstd" and compress["vs_tutorial"] == pytest.approx(5.0)
    reduce_row = by_job.loc["reduce an array larger than memory"]
    assert reduce_row["method"] == "tables" and pd.isna(reduce_row["vs_tutorial"])  # no tutorial way
    assert reduce_row["fraction_of_limit"] == pytest.approx(6.0 / 8.0)
