"""The summary table: each stage's headline figures, limits from the same run."""

import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO
from outofcore.blosc import figures as blosc_figures
from outofcore.hugearray import figures as hugearray_figures
from outofcore.particles import figures as particle_figures
from outofcore.summary import table as summary_table
from outofcore.summary.decision import decide
from outofcore.summary.headline import COLUMNS, headline_frame, read_headlines, write_headline
from support import ARRAYS, LIMITS, SWEEP, timings


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
    assert frame["note"].tolist() == [r.note for r in rows] and "" in set(frame["note"])  # text, not NaN


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
    assert len(rows) == 5 and rows["figure"].str.contains("1,000 rows").all()
    fill = rows[rows["figure"].str.startswith("table fill, block")].iloc[0]
    assert fill["value"] == pytest.approx(4e7 * 36 / 1e9)
    assert fill["fraction_of_limit"] == pytest.approx(0.5)
    scan = rows[rows["figure"].str.startswith("in-kernel where")].iloc[0]
    assert scan["limit_value"] == 8.0  # warm read from limits.csv
    slower = rows[rows["figure"].str.startswith("iterrows against in-kernel where")].iloc[0]
    assert slower["fraction_of_limit"] == pytest.approx(1e6 / 1e8) and slower["bound"] == "reference"


def test_same_job_comparisons_of_the_delivered_fill_the_scan_and_pandas():
    rows = headline_frame(particle_figures.headline([timings(1000, 4e7, full=True)], threads=2))
    table = summary_table.summarize(LIMITS, rows).set_index("figure")
    delivered = table.loc["table fill, direct chunk writes: the delivered table (1,000 rows)"]
    assert delivered["fraction_of_limit"] == pytest.approx(0.9) and delivered["bound"] == "yes"
    scan = table.loc["in-kernel where against table.read() (1,000 rows)"]
    assert scan["fraction_of_limit"] == pytest.approx(0.5) and scan["bound"] == "reference"
    both = 1000 / 1e8 + 1000 / 2e8  # seconds of where + table.read()
    fast = table.loc["pandas query, names as Arrow bytes, against where + table.read() (1,000 rows)"]
    assert fast["fraction_of_limit"] == pytest.approx(both / (1000 / 5e7))
    slow = table.loc["pandas query, read_hdf, names as str, against where + table.read() (1,000 rows)"]
    assert slow["fraction_of_limit"] == pytest.approx(both / (1000 / 1e6))


def test_scan_figures_name_the_threads_their_numexpr_ran_on():
    frame = timings(1000, 4e7, full=True)
    frame["threads"] = frame["method"].map({"where": 1, "pandas": 2, "pandas_bytes": 2})
    rows = headline_frame(particle_figures.headline([frame], threads=2)).set_index("figure")
    assert rows.loc["in-kernel where query (1,000 rows scanned)", "threads"] == 1
    assert rows.loc["in-kernel where against table.read() (1,000 rows)", "threads"] == 1
    pandas = rows[rows.index.str.startswith("pandas query")]
    assert len(pandas) == 2 and (pandas["threads"] == 2).all()
    old = headline_frame(particle_figures.headline([timings(1000, 4e7)], threads=2))  # no threads column
    assert (old.loc[old["method"] == "where", "threads"] == 2).all()


def test_blosc_compression_against_memory_read_and_decompression_against_write_of_the_job(table):
    rows = table[table["stage"] == "blosc"].set_index("figure")
    assert len(rows) == 4 and (rows["bound"] == "yes").all()
    compress = rows[rows.index.str.startswith("compress")]
    assert (compress["limit_value"] == 20.0).all()  # the sweep's own read_2t, not limits.csv
    assert compress["limit"].str.contains("read_2t").all()
    best = compress[compress.index.str.contains("best pickle-free")].iloc[0]
    assert "compress2/zstd" in best.name and best["value"] == 5.0
    decompress = rows[rows.index.str.startswith("decompress, best")].iloc[0]
    assert decompress["limit_value"] == 10.0 and "write_2t" in decompress["limit"]
    assert decompress["fraction_of_limit"] == pytest.approx(1.2)
    assert "ABOVE ITS BOUND" in decompress["flags"]
    assert list(summary_table.above_bound(table)["figure"]) == [decompress.name]


def test_hugearray_write_fsyncs_so_it_is_set_against_durable_write_times_its_ratio(table):
    writes = table[table["figure"].str.startswith("write, fsync")].set_index("figure")
    assert len(writes) == 2 and writes.index.str.contains("64 MiB").all()
    compressed = writes[writes.index.str.contains("tables")].iloc[0]
    assert compressed["limit_value"] == pytest.approx(min(1.0 * 4.0, 12.0))  # durable x ratio
    assert "durable write (fsync) x 4.00" in compressed["limit"]
    raw = writes[writes.index.str.contains("memmap")].iloc[0]
    assert raw["limit_value"] == 1.0 and raw["limit"] == "durable write (fsync)"


def test_compressed_reduce_is_bounded_by_read_times_ratio_or_copy_of_its_threads():
    table = summary_table.summarize(LIMITS, headlines(cold_read=True))
    reduce_rows = table[table["figure"].str.startswith("out-of-core reduce")]
    reduce_rows = reduce_rows.set_index(reduce_rows["figure"].str.extract(r"\((\w+),")[0])
    tables = reduce_rows.loc["tables"]
    assert tables["compression_ratio"] == pytest.approx(4.0)
    assert tables["limit_value"] == pytest.approx(min(1.5 * 4.0, 12.0))  # cold read x ratio
    assert "x 4.00" in tables["limit"] and "copy_2t" in tables["limit"]
    memmap = reduce_rows.loc["memmap"]  # raw file: the read rate itself
    assert memmap["limit_value"] == 1.5 and memmap["compression_ratio"] < 1
    warm = summary_table.summarize(LIMITS, headlines(cold_read=False))
    warm_tables = warm[warm["figure"].str.startswith("out-of-core reduce (tables")].iloc[0]
    assert warm_tables["limit_value"] == 12.0  # min(8 x 4, copy_2t)


def test_a_cached_cold_read_is_a_reference_never_a_bound():
    limits = LIMITS.copy()
    limits.loc[limits["name"] == "cold_read", "how"] = "CACHED (faster than half the warm read): x"
    table = summary_table.summarize(limits, headlines(cold_read=True))
    reduce_rows = table[table["figure"].str.startswith("out-of-core reduce")]
    assert (reduce_rows["bound"] == "reference").all()
    same_job = table["figure"].str.contains(" against ")  # same-job comparisons: references
    assert (table.loc[~table.index.isin(reduce_rows.index) & ~same_job, "bound"] == "yes").all()
    fig = summary_table.plot_fractions(table)
    assert any(bar.get_hatch() == "//" for bar in fig.axes[0].patches)


def test_bandwidth_of_more_threads_than_measured_falls_back_to_the_most_measured():
    assert summary_table.lookup({"copy_1t": 5.0, "copy_2t": 9.0}, "copy_8t") == ("copy_2t", 9.0)
    with pytest.raises(ValueError, match="copy_8t"):
        summary_table.lookup({"read_2t": 5.0}, "copy_8t")


def test_busy_and_unstable_figures_are_flagged_and_the_plot_marks_a_figure_above_its_bound():
    rows = headlines()
    rows.loc[0, ["others_busy", "spread"]] = [0.4, 0.3]
    table = summary_table.summarize(LIMITS, rows)
    assert "shared machine" in table.loc[0, "flags"] and "unstable" in table.loc[0, "flags"]
    assert not table.loc[0, "stable"]
    fig = summary_table.plot_fractions(table)
    texts = [text.get_text() for text in fig.axes[0].texts]
    assert any("ABOVE BOUND" in text for text in texts) and any(text.endswith(" *") for text in texts)


def test_headline_files_without_the_new_columns_read_with_defaults(tmp_path):
    old = headline_frame(particle_figures.headline([timings(1000, 4e7)], threads=2))
    old.drop(columns=["bound", "compression_ratio", "spread", "others_busy"]).to_csv(tmp_path / "h.csv")
    frame = read_headlines([tmp_path / "h.csv"])
    assert (frame["bound"] == "yes").all() and frame["spread"].isna().all()


def test_hugearray_largest_size_per_backend(table):
    rows = table[table["stage"] == "hugearray"]
    assert len(rows) == 4 and rows["figure"].str.contains("64 MiB").all()
    reduce_tables = rows[rows["figure"].str.startswith("out-of-core reduce (tables")].iloc[0]
    assert reduce_tables["fraction_of_limit"] == pytest.approx(6.0 / 12.0)  # min(warm 8 x ratio 4, copy_2t)


def test_missing_stages_give_no_rows_and_plot_has_labels(table):
    assert summary_table.summarize(LIMITS, read_headlines([])).empty
    fig = summary_table.plot_fractions(table)
    ax = fig.axes[0]
    assert ax.get_title() and "fraction" in ax.get_xlabel()
    assert len(ax.patches) == len(table)


def test_queries_that_may_skip_rows_are_references_not_bounded_by_a_full_read():
    frame = timings(1000, 4e7)
    engines = pd.DataFrame(
        [{"step": "query", "method": "duckdb", "rows": 1000, "rows_per_s": 1e11, "order": "sorted",
          "format": "parquet", "file_bytes": 10_000, "threads": 2}]
    )  # fmt: skip
    rows = particle_figures.headline([pd.concat([frame, engines], ignore_index=True)], threads=2)
    table = summary_table.summarize(LIMITS, headline_frame(rows)).set_index("figure")
    duckdb = table[table.index.str.startswith("DuckDB")].iloc[0]
    assert duckdb["bound"] == "reference" and duckdb["fraction_of_limit"] > 1.05
    assert duckdb["flags"] == ""  # a reference above 1 is no bug in a bound
    own = ~table.index.str.startswith("DuckDB") & ~table.index.str.contains(" against ")
    assert (table.loc[own, "bound"] == "yes").all()


def test_a_bandwidth_limit_is_the_fastest_sample_not_the_median():
    sweep = SWEEP.copy()
    write = (sweep["operation"] == "write") & (sweep["threads"] == 2)
    sweep.loc[write, "seconds_min"] /= 2  # one sample twice as fast as the median
    assert blosc_figures.bandwidth(sweep, "write", 2) == 10.0
    assert blosc_figures.bandwidth(sweep, "write", 2, best=True) == pytest.approx(20.0)
    rows = headline_frame(blosc_figures.headline(sweep))
    assert rows.loc[rows["limit"] == "write_2t", "limit_value"].tolist() == pytest.approx([20.0, 20.0])


def test_cold_reduce_is_read_against_cold_read():
    table = summary_table.summarize(LIMITS, headlines(cold_read=True))
    reduce_rows = table[table["figure"].str.startswith("out-of-core reduce")]
    assert reduce_rows["limit"].str.contains("cold read").all()  # x the ratio where compressed


def test_headline_table_prints_every_figure_its_fraction_and_the_contention(tmp_path, table):
    """`make bench` ends with this tool on the run's summary.csv."""
    busy = table.assign(others_busy=[0.05 * (i % 3) for i in range(len(table))])
    busy.to_csv(tmp_path / "summary.csv", index=False)
    tool = [sys.executable, str(REPO / "scripts" / "headline_table.py")]
    proc = subprocess.run([*tool, str(tmp_path / "summary.csv")], capture_output=True, text=True, check=True)
    lines = proc.stdout.splitlines()
    header = ["stage", "figure", "value", "unit", "limit", "fraction", "bound", "others_busy"]
    assert lines[0].split() == header
    assert sum(line.strip().startswith(("particles", "blosc", "hugearray")) for line in lines) == len(table)
    assert "table fill, block appends (1,000 rows)" in proc.stdout and "0.50" in proc.stdout
    assert lines[-1] == "other processes kept 0%-10% of the cores busy while the jobs timed"
    missing = subprocess.run([*tool, str(tmp_path / "nope.csv")], capture_output=True, text=True)
    assert missing.returncode == 2 and "nope.csv" in missing.stderr


def test_the_decision_chooses_among_tuned_and_pipeline_rows_only():
    """A library left at its defaults only shows what tuning is worth: the fastest row of a
    job at the default setting is never the decision, and the decision names its setting."""
    rows = headlines()
    reduces = rows.index[rows["job"] == "reduce an array larger than memory"]
    fastest = rows.loc[reduces, "value"].idxmax()
    rows.loc[fastest, "value"] = rows.loc[reduces, "value"].max() * 10
    rows.loc[fastest, ["method", "setting"]] = ["zarr + dask (default)", "default"]
    decision = decide(LIMITS, rows).set_index("job")
    reduce_row = decision.loc["reduce an array larger than memory"]
    assert reduce_row["method"] != "zarr + dask (default)" and reduce_row["setting"] in ("tuned", "pipeline")
    rows.loc[fastest, ["method", "setting"]] = ["zarr + dask (tuned)", "tuned"]
    decision = decide(LIMITS, rows).set_index("job")
    assert decision.loc["reduce an array larger than memory", "method"] == "zarr + dask (tuned)"
    assert summary_table.summarize(LIMITS, rows)["setting"].isin(["default", "tuned", "pipeline"]).all()
