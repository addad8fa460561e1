"""What to use: one decision per (job, question, data), ties within noise, the verdict."""

import math

import pandas as pd
import pytest

from outofcore.core.report_tables import write_table
from outofcore.hugearray import figures as hugearray_figures
from outofcore.particles import figures as particle_figures
from outofcore.particles import questions as particle_questions
from outofcore.summary import decision as what
from outofcore.summary import table as summary_table
from outofcore.summary import views
from outofcore.summary.headline import Headline, headline_frame, in_summary
from support import ARRAYS, LIMITS, timings


def row(method: str, value: float, low: float, high: float, **extra) -> Headline:
    fields = {"stage": "particles", "job": "query a table", "method": method, "figure": f"{method} f",
              "value": value, "unit": "GB/s", "limit": "warm_read", "threads": 1, "value_low": low,
              "value_high": high,
              "question": "query 1 %", "data": "table", "how": f"{method}()",
              "recipe": method} | extra  # fmt: skip
    return Headline(**fields)


def test_the_pick_is_the_fastest_and_overlapping_samples_are_ties():
    rows = headline_frame([
        row("a", 4.0, 3.0, 5.0), row("b", 3.5, 2.9, 3.8), row("c", 2.0, 1.8, 2.2),
        row("loop", 0.04, 0.03, 0.05, tutorial=True),
    ])  # fmt: skip
    decision = what.decide(LIMITS, rows)
    assert len(decision) == 1
    pick = decision.iloc[0]
    assert pick["method"] == "a" and pick["pick"] == "tie: a" and pick["ties"] == "b"
    assert pick["vs_tutorial"] == pytest.approx(100) and pick["tutorial"] == "loop"
    assert pick["fraction_of_limit"] == pytest.approx(0.5) and pick["limit"] == "warm read (page cache)"
    assert pick["bound"] == "yes" and pick["how"] == "a()" and pick["recipe"] == "a"


def test_one_row_per_question_and_data_and_the_tutorial_of_the_same_job_and_data():
    rows = headline_frame([
        row("a", 4.0, 3.9, 4.1), row("b", 3.0, 2.9, 3.1, question="query 50 %"),
        row("b", 5.0, 4.9, 5.1, data="other table"), row("loop", 1.0, 1.0, 1.0, tutorial=True),
    ])  # fmt: skip
    decision = what.decide(LIMITS, rows).set_index(["question", "data"])
    assert decision.loc[("query 1 %", "table"), "method"] == "a"
    assert decision.loc[("query 50 %", "table"), "method"] == "b"
    assert decision.loc[("query 50 %", "table"), "vs_tutorial"] == pytest.approx(3.0)  # same job and data
    assert decision.loc[("query 1 %", "other table"), "vs_tutorial"] == pytest.approx(5.0)  # same job
    assert (decision["ties"] == "").all()


def test_tuned_settings_are_decided_on_and_defaults_say_what_tuning_is_worth():
    rows = headline_frame([
        row("a", 9.0, 8.9, 9.1, setting="default"), row("a", 6.0, 5.9, 6.1, setting="tuned"),
        row("b", 2.0, 1.9, 2.1, setting="default"), row("b", 4.0, 3.9, 4.1, setting="pipeline"),
    ])  # fmt: skip
    pick = what.decide(LIMITS, rows).iloc[0]
    assert (
        pick["method"] == "a" and pick["setting"] == "tuned" and pick["value"] == 6.0
    )  # never a default row
    assert pick["vs_default"] == pytest.approx(6.0 / 9.0)
    only_defaults = what.decide(LIMITS, headline_frame([row("a", 9.0, 8.9, 9.1, setting="default")]))
    assert only_defaults.empty  # nothing tuned measured: no pick at all


def test_the_smallest_is_ranked_by_ratio_and_rows_kept_out_of_the_decision_stay_out():
    rows = headline_frame([
        row("fast", 5.0, 4.9, 5.1, compression_ratio=2.0, rank_by="compression_ratio", limit="read_2t",
            stage="blosc"),
        row("small", 1.0, 0.9, 1.1, compression_ratio=9.0, rank_by="compression_ratio", limit="read_2t",
            stage="blosc"),
        row("summary only", 50.0, 49.0, 51.0, decide=False, limit="read_2t", stage="blosc"),
    ])  # fmt: skip
    limits = pd.concat([LIMITS, pd.DataFrame([("read_2t", 20.0, "GB/s", "x")], columns=LIMITS.columns)])
    decision = what.decide(limits, rows)
    assert decision["method"].tolist() == ["small"] and decision.iloc[0]["size"] == "ratio 9"


def test_a_range_from_the_spread_alone_is_never_narrower_than_the_samples():
    assert what.sample_range(pd.Series({"value": 2.0, "spread": 0.5})) == pytest.approx((2.0 / 1.5, 4.0))
    assert what.sample_range(pd.Series({"value": 2.0, "spread": math.nan})) == (2.0, 2.0)
    assert what.human_bytes(37_754_496) == "37.8 MB" and what.human_bytes(512) == "512 bytes"


def test_stage_headlines_name_question_data_call_and_recipe():
    frame = timings(1000, 4e7, full=True)
    frame["matches"] = frame["method"].map({"where": 30, "iterrows": 30})
    shuffled = frame[frame["method"] == "where"].assign(order="shuffled", seconds=1000 / 5e7, rows_per_s=5e7)
    rows = headline_frame([
        *particle_figures.headline([pd.concat([frame, shuffled])], threads=2),
        *hugearray_figures.headline(ARRAYS, threads=2, cold_read=False),
    ])  # fmt: skip
    decision = what.decide(LIMITS, rows).set_index(["job", "question"])
    store = decision.loc[("store a table", particle_questions.WRITE_HEAVY)]
    assert store["method"] == "direct chunk writes" and store["recipe"] == "pytables_direct_chunks"
    assert store["vs_tutorial"] == pytest.approx(180) and store["data"].startswith(
        "particle table of 1,000 rows"
    )
    sorted_query = decision.loc[("query a table", "query 30 of 1,000 rows (3 %), rows sorted")]
    assert sorted_query["method"] == "where" and sorted_query["how"].startswith("table.read_where(")
    shuffled_query = decision.loc[("query a table", "query 30 of 1,000 rows (3 %), rows shuffled")]
    assert shuffled_query["vs_tutorial"] == pytest.approx(50)  # iterrows of the same job and data
    write = decision.loc[("write an array larger than memory", "write 64 MiB block by block, fsync included")]
    assert (
        write["method"] == "tables"
        and write["recipe"] == "hugearray_tables"
        and write["data"] == "uniform_int16"
    )
    assert (decision["data"] != "").all() and decision.index.is_unique


def test_the_verdict_has_one_sentence_per_job_linked_to_its_evidence():
    rows = headline_frame([
        row("a", 4.0, 3.0, 5.0, stage="particles"), row("b", 3.5, 2.9, 3.8, stage="particles"),
        row("loop", 0.04, 0.03, 0.05, tutorial=True, stage="particles"),
        row("z", 2.0, 1.9, 2.1, job="compress an array in memory", stage="blosc", spread=0.3, limit="read_1t",
            limit_value=20.0),
    ])  # fmt: skip
    decision = what.decide(LIMITS, rows)
    text = what.verdict_rst(decision)
    lines = text.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        "- *Query a table* (table): **a** or **b** (``a()``; tied within noise: no winner)"
    )
    assert "100x faster than the tutorial's loop" in lines[0]
    assert "app.showResultInfo('results/particles/shares.png')" in lines[0]  # the query job's own plot
    assert "app.showResultInfo('results/blosc/matrix.png')" in lines[1] and "spread up to 30%" in lines[1]
    assert all("app.showResultInfo('results/decision.html')" in line for line in lines)
    page = what.decision_page_extra(decision, {"a": "import a  # <a>", "z": "import z"})
    assert "<b>a</b> or <b>b</b>" in page and "import a  # &lt;a&gt;" in page and "docs/recipes/z.py" in page
    with pytest.raises(ValueError, match=r"lacks.*'z'"):
        what.decision_page_extra(decision, {"a": "import a"})


def test_fills_are_bounded_by_a_page_cache_write_with_np_save_beside_it():
    frame = timings(1000, 4e7, full=True)
    bound = frame[frame["method"] == "limit"].assign(method="page_cache", format="raw", rows_per_s=1e8)
    rows = headline_frame(particle_figures.headline([pd.concat([frame, bound])], threads=2))
    table = summary_table.summarize(LIMITS, rows).set_index("figure")
    fills = table[table.index.str.startswith("table fill")]
    assert (fills["limit"] == particle_figures.BOUND).all() and (fills["limit_value"] == 1e8 * 36 / 1e9).all()
    save = table.loc["np.save of the same array (1,000 rows)"]
    assert save["fraction_of_limit"] == pytest.approx(0.8) and save["bound"] == "yes"
    assert "np.save" not in set(what.decide(LIMITS, rows)["method"])  # beside the bound, never a pick
    old = headline_frame(particle_figures.headline([frame], threads=2))  # timed before the bound existed
    fills = old[(old["job"] == "store a table") & (old["unit"] == "GB/s")]
    assert (fills["limit"] == "np.save of the same array").all()


def test_a_question_ranked_by_time_picks_the_lowest_and_its_ties():
    lowest = {"rank_by": "lowest", "unit": "s", "question": "write once, read many", "job": "store a table"}
    rows = headline_frame([
        row("slow", 2.0, 1.9, 2.1, **lowest), row("fast", 1.0, 0.9, 1.1, **lowest),
        row("close", 1.05, 1.0, 1.2, **lowest), row("loop", 50.0, 49.0, 51.0, tutorial=True, **lowest),
        row("fast", 2.0, 1.9, 2.1, setting="default", **lowest),
    ])  # fmt: skip
    pick = what.decide(LIMITS, rows).iloc[0]
    assert pick["method"] == "fast" and pick["ties"] == "close" and pick["pick"] == "tie: fast"
    assert pick["vs_tutorial"] == pytest.approx(50) and pick["vs_default"] == pytest.approx(2)  # x as fast


def test_the_tutorial_is_compared_only_at_the_share_of_the_rows_it_was_timed_on():
    shared = {"variant": "rows sorted"}
    rows = headline_frame([
        row("indexed where", 8.0, 7.9, 8.1, share=3e-6, question="query 3 rows", **shared),
        row("iterrows", 0.1, 0.1, 0.1, share=3e-6, question="query 3 rows", tutorial=True, **shared),
        row("Polars", 4.0, 3.9, 4.1, share=0.5, question="query 50 %", **shared),
    ])  # fmt: skip
    decision = what.decide(LIMITS, rows).set_index("question")
    assert decision.loc["query 3 rows", "vs_tutorial"] == pytest.approx(80)
    assert math.isnan(decision.loc["query 50 %", "vs_tutorial"])  # the loop never returned half the rows


def test_picks_across_shares_of_the_rows_are_one_phrase_per_row_order():
    def asked(method, share, order, ties=""):
        low = 4.0 if ties else 3.9
        return row(method, 4.0, low, 4.1, share=share, variant=f"rows {order}",
                   question=f"query {share:.0%}, rows {order}")  # fmt: skip

    rows = headline_frame([
        asked("indexed where", 0.01, "sorted"), row("where", 1.0, 0.9, 1.1, share=0.01, variant="rows sorted",
                                                    question="query 1%, rows sorted"),
        asked("indexed where", 0.1, "sorted"), asked("Polars", 0.5, "sorted"),
        asked("Polars", 0.01, "shuffled"), asked("Polars", 0.5, "shuffled"),
        row("DuckDB", 3.95, 3.9, 4.2, share=0.5, variant="rows shuffled",
            question="query 50%, rows shuffled"),
        row("loop", 0.04, 0.03, 0.05, tutorial=True, share=0.01, variant="rows sorted",
            question="query 1%, rows sorted"),
    ])  # fmt: skip
    ((_, sentence, _),) = what.verdict_sentences(what.decide(LIMITS, rows))
    assert "rows sorted: **indexed where** up to 10 %, **Polars** above" in sentence
    assert "rows shuffled: **Polars** up to 1 %, **Polars** or **DuckDB** (tied) above" in sentence
    assert "100x faster than the tutorial's loop (at 1 %)" in sentence
    assert sentence.count(".") == 1 and sentence.endswith(").")  # one sentence


def test_decision_only_rows_stay_out_of_the_summary_and_a_reference_never_reads_as_above_a_bound():
    rows = headline_frame(
        [row("a", 4.0, 3.9, 4.1), row("b", 9.0, 8.9, 9.1, summary=False, bound="reference")]
    )
    assert in_summary(rows).tolist() == [True, False]
    decision = what.decide(LIMITS, rows)
    assert decision.iloc[0]["fraction_of_limit"] > 1.05 and "above its bound" not in what.sureness(decision)


def test_a_figure_above_its_bound_is_flagged_in_its_decision_row_and_the_verdict():
    """Not the pick, still never hidden: the row of its question says so."""
    rows = headline_frame([
        row("a", 9.0, 8.9, 9.1), row("b", 1.8, 1.7, 1.9, stage="hugearray", limit="cold_read"),
        row("c", 4.0, 3.9, 4.1, question="query 50 %"),
    ])  # fmt: skip
    decision = what.decide(LIMITS, rows).set_index("question")
    assert decision.loc["query 1 %", "method"] == "a"
    flags = decision.loc["query 1 %", "flags"]
    assert "ABOVE ITS BOUND (1.12x)" in flags  # the pick: 9 of warm read's 8
    assert "b ABOVE ITS BOUND (1.20x cold read (device)): the bound is wrong" in flags  # beside it
    assert "ABOVE" not in decision.loc["query 50 %", "flags"]
    (sentence,) = [
        s for job, s, _ in what.verdict_sentences(decision.reset_index()) if job == "query a table"
    ]
    assert "a figure above its bound: see flags" in sentence
    view = views.decision_view(decision.reset_index())
    assert view.loc[0, "notes"].count("ABOVE ITS BOUND") == 2 and view.loc[1, "notes"] == ""
    summary = views.summary_view(summary_table.summarize(LIMITS, rows))
    assert list(summary.columns) == ["stage", "figure", "value", "limit", "fraction_of_limit", "bound",
                                     "spread", "others_busy", "flags"]  # fmt: skip
    assert summary.loc[0, "value"] == "9.00 GB/s" and "ABOVE ITS BOUND (1.12x)" in summary.loc[0, "flags"]


def test_the_decision_page_shows_the_columns_a_reader_needs_and_keeps_every_column(tmp_path):
    rows = headline_frame([row("a", 4.123456, 3.0, 5.0, file_bytes=123_456_789.0), row("b", 3.5, 2.9, 3.8)])
    decision = what.decide(LIMITS, rows)
    view = views.decision_view(decision)
    assert list(view.columns) == ["question", "data", "pick", "how", "value [GB/s]", "spread", "ties", "size",
                                  "of the limit", "vs tutorial (x)", "notes"]  # fmt: skip
    assert view.loc[0, "question"] == "query a table: query 1 %"
    assert view.loc[0, "of the limit"] == "0.515 of warm read (page cache)"
    write_table(decision, tmp_path / "d.csv", tmp_path / "d.html", "What to use", main=view)
    page = (tmp_path / "d.html").read_text()
    first, everything = page.split('<details class="all">')
    assert ">4.12<" in first and "4.123456" not in first  # 3 significant digits
    assert ">123 MB<" in first  # the size, human-readable
    assert "how</th>" in first and "value_low" not in first  # the rest behind "all columns"
    assert f"all {len(what.DECISION_COLUMNS)} columns" in everything and "value_low" in everything
    assert pd.read_csv(tmp_path / "d.csv").columns.tolist() == what.DECISION_COLUMNS  # the CSV complete
    assert pd.read_csv(tmp_path / "d.csv").loc[0, "value"] == 4.123456  # raw values


def test_the_fill_bound_is_the_page_cache_writes_fastest_sample_as_every_limit():
    """A writeback stall in the bound's median made np.save 1.20x its bound at 10^6 rows."""
    frame = timings(1000, 4e7, full=True)
    bound = frame[frame["method"] == "limit"].assign(method="page_cache", format="raw", rows_per_s=1e8,
                                                     seconds=1000 / 1e8, seconds_min=1000 / 2e8)  # fmt: skip
    rows = headline_frame(particle_figures.headline([pd.concat([frame, bound])], threads=2))
    table = summary_table.summarize(LIMITS, rows).set_index("figure")
    fills = table[table.index.str.startswith("table fill")]
    assert fills["limit_value"].tolist() == pytest.approx([2e8 * 36 / 1e9] * len(fills))  # not the median
    assert table.loc["np.save of the same array (1,000 rows)", "fraction_of_limit"] == pytest.approx(0.4)
