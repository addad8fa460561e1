"""The shares of the rows asked beside the configured query (`particles.queries`): each
fraction becomes a range of pressure whose matching rows are known exactly from the
generated data, and every method must return exactly those rows."""

import dataclasses
import logging

import numpy as np
import pytest

from outofcore.particles import selectivity as sel
from outofcore.particles.bench import TIMINGS_COLUMNS, configured, timings_frame
from outofcore.particles.engines import evaluate
from outofcore.particles.format_bench import engine_threads
from outofcore.particles.formats import write_parquet
from outofcore.particles.queries import open_table
from outofcore.particles.table import MAX_ROWS, TABLE_PATH, fill_blocks, filters_for, make_particles
from outofcore.plan.query import parse_query, to_text


@pytest.mark.parametrize("nrows", [1, 2, 10, 100, 2500, 100_000])
@pytest.mark.parametrize("fraction", [1e-9, 0.01, 0.1, 0.5, 0.999, 1.0])
def test_the_condition_returns_exactly_the_known_rows(nrows, fraction):
    question = sel.selectivity(fraction, nrows)
    records = make_particles(0, nrows)
    found = np.flatnonzero(evaluate(question.query, records))
    assert found.tolist() == list(range(question.start, question.stop))
    assert question.matches == min(nrows, max(1, round(fraction * nrows)))  # pressures distinct: < 2**24 rows
    assert to_text(parse_query(question.condition)) == question.condition  # already the checked normal form


def test_a_million_rows_by_tens_of_percent():
    questions = sel.selectivities([0.01, 0.1, 0.5], 10**6)
    assert [q.label for q in questions] == ["1 %", "10 %", "50 %"]
    bounds = [(495_000, 505_000), (450_000, 550_000), (250_000, 750_000)]
    assert [(q.start, q.stop) for q in questions] == bounds
    assert questions[1].condition == "((pressure >= 202499997696.0) & (pressure < 302499987456.0))"
    assert sel.selectivity(1.0, 10**6).condition == "(pressure >= 0.0)"


@pytest.mark.parametrize("fraction", [0.01, 0.5])
def test_rows_that_share_a_float32_are_counted_exactly(fraction):
    """Above 2**24 rows neighbouring rows can round to the same float32 pressure: the
    bounds then hold a few rows more or fewer than asked, counted exactly."""
    question = sel.selectivity(fraction, MAX_ROWS)
    for edge in (question.start, question.stop):  # the rows around each end, generated
        window = make_particles(edge - 40, edge + 40)
        inside = evaluate(question.query, window)
        rows = np.arange(edge - 40, edge + 40)
        assert (inside == ((rows >= question.start) & (rows < question.stop))).all()
    assert question.matches != round(fraction * MAX_ROWS)  # here the float32s do collide
    assert abs(question.matches - round(fraction * MAX_ROWS)) < 64


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5, float("nan")])
def test_a_fraction_outside_zero_to_one_is_refused_naming_the_key(fraction):
    with pytest.raises(ValueError, match=r"^particles\.queries: .*\(0, 1\]"):
        sel.selectivity(fraction, 100)


def test_every_method_agrees_and_a_wrong_count_fails(tmp_path):
    records = make_particles(0, 3000)
    shuffled = records[np.random.default_rng(1).permutation(len(records))]
    table, indexed, parquet = tmp_path / "t.h5", tmp_path / "i.h5", tmp_path / "t.parquet"
    fill_blocks(table, shuffled, filters_for("none"))
    fill_blocks(indexed, shuffled, filters_for("none"))  # no index yet: the questions build it
    write_parquet(parquet, shuffled, "snappy", 500, dictionary=False)
    files = sel.OrderFiles("shuffled", table, indexed, parquet)
    questions = sel.selectivities([0.01, 0.5], len(records))
    log = logging.getLogger("test")
    rows = sel.time_selectivities(questions, files, records, engine_threads(1), log, repeats=1)
    frame = timings_frame(rows)
    assert list(frame.columns) == TIMINGS_COLUMNS and configured(frame).empty
    methods = {"read_numpy", "duckdb", "polars", "arrow"}
    where_up_to_2_percent = [{"read_where", "indexed_read_where"}, set()]  # a Python object per match
    for question, where in zip(questions, where_up_to_2_percent, strict=True):
        mine = frame[frame["selectivity"] == question.fraction]
        assert set(mine["method"]) == methods | where
        assert (mine["matches"] == question.matches).all() and (mine["condition"] == question.condition).all()
    assert (frame["order"] == "shuffled").all() and set(frame["setting"]) == {"tuned", "pipeline"}
    assert set(frame.loc[frame["method"] == "read_where", "setting"]) == {"pipeline"}  # 1-thread numexpr
    with open_table(indexed) as h5:
        assert h5.get_node(TABLE_PATH).cols.pressure.is_indexed
    wrong = dataclasses.replace(questions[0], stop=questions[0].stop + 1)
    with pytest.raises(RuntimeError, match="the table holds"):
        sel.time_selectivities([wrong], files, records, engine_threads(1), log, repeats=1)
    shifted = dataclasses.replace(questions[0], start=questions[0].start + 1, stop=questions[0].stop + 1)
    with pytest.raises(RuntimeError, match=r"disagree.*outside"):
        sel.time_selectivities([shifted], files, records, engine_threads(1), log, repeats=1)
    changed = records.copy()
    changed["energy"][questions[0].start] *= 2  # one value off: the same rows, another answer
    with pytest.raises(RuntimeError, match="other values in energy"):
        sel.time_selectivities(questions[:1], files, changed, engine_threads(1), log, repeats=1)
