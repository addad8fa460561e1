"""Config text in plots and the report: only the checked normal form, never markup.

The particle query is free text that reaches a plot title and the report's landing
page, where `$...$` is matplotlib mathtext and backquotes are reStructuredText (a link
to `javascript:`). The config check replaces it by its normal form (`plan.query.to_text`);
the titles are drawn as plain text and the landing page shows the config as a literal
block, whatever it holds.
"""

import matplotlib

matplotlib.use("Agg")
import pytest

from conftest import load_config, run_workflow
from outofcore.core.files import save_figure
from outofcore.particles import figures as particle_figures
from outofcore.plan import configcheck
from outofcore.plan.query import parse_query, to_text

HOSTILE = "(pressure < 50) # $\\x$ `` `click <javascript:alert(1)>`_ ``"
QUERIES = [
    "(20 <= pressure) & (pressure < 50)",
    "~((pressure > 1) & (pressure < 40)) & (idnumber > -2.5)",
    "(pressure < 0.1) | (energy >= 1e300) | (pressure == idnumber)",
    "pressure != 16777217",
    HOSTILE,
]


@pytest.mark.parametrize("text", QUERIES)
def test_normal_form_is_a_fixed_point_without_the_users_text(text):
    normal = to_text(parse_query(text))
    assert parse_query(normal) == parse_query(text)
    assert to_text(parse_query(normal)) == normal
    assert set(normal) <= set("()<>=!&| .-+e0123456789_abcdefghijklmnopqrstuvwxyz")


def test_config_check_replaces_the_query_by_its_normal_form():
    particles = {"query": HOSTILE}
    configcheck.check_particles(particles)
    assert particles["query"] == "(pressure < 50.0)"


def test_hostile_query_reaches_neither_plot_nor_report(tmp_path):
    config = load_config("tiny.yaml")
    config["particles"].update(query=HOSTILE, formats=[], order=["sorted"])
    targets = ["results/particles/query_time.png", "results/limits.csv"]
    run_workflow(tmp_path, config, *targets)
    report = tmp_path / "report.html"
    run_workflow(tmp_path, config, *targets, "--report", str(report))
    html = report.read_text()
    assert "javascript:" not in html and "alert(1)" not in html and "\\x$" not in html
    assert "(pressure &lt; 50.0)" in html  # the normal form, in the literal block

    # the titles are plain text: even the raw text draws (as mathtext `$\x$` would not)
    timings = particle_figures.query_timings([tmp_path / "results/particles/10/timings.csv"])
    save_figure(particle_figures.plot_query_time(timings, HOSTILE), tmp_path / "raw.png")
    assert (tmp_path / "raw.png").stat().st_size > 0
