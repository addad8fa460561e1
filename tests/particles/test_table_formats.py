"""The table-format registry: one entry per format module, agreeing with what the rules
know (`outofcore.plan.table_formats`), the config schema's enum, the docs, and every
writer and engine reaching the timings' figures and the headline."""

import importlib
import pkgutil

import pandas as pd
import pytest
import yaml

from conftest import REPO
from outofcore.core.timing import Timing
from outofcore.particles import figures, store_figure
from outofcore.particles import formats as formats_package
from outofcore.particles.bench import TimingRow, timings_frame
from outofcore.particles.formats import registry
from outofcore.particles.formats.registry import FORMATS
from outofcore.particles.formats.table_format import TableFormat
from outofcore.plan import jobs, table_formats

SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())


def test_registry_agrees_with_the_rules_description():
    assert registry.disagreements(FORMATS, table_formats.FILES) == []
    assert jobs.particle_store_outputs(list(FORMATS)) == {
        name: f"results/particles/{{rows}}/{entry.file}" for name, entry in FORMATS.items()
    }


def test_a_disagreement_is_named():
    described = {**table_formats.FILES, "parquet": "table.pq", "feather": "table.feather"}
    assert registry.disagreements(FORMATS, described) == [
        "feather: in the rules' description only",
        "parquet: registry file table.parquet, rules table.pq",
    ]
    twice = {**FORMATS, "copy": FORMATS["parquet"]}
    problems = registry.disagreements(twice, {**table_formats.FILES, "copy": "table.parquet"})
    assert "copy: registered under another name than its own, parquet" in problems
    assert "copy: duckdb is not unique" in problems


def test_every_format_module_is_registered():
    """A module of the formats package that ends in a `FORMAT` is in the registry."""
    found = {}
    for module in pkgutil.iter_modules(formats_package.__path__):
        entry = getattr(importlib.import_module(f"outofcore.particles.formats.{module.name}"), "FORMAT", None)
        if isinstance(entry, TableFormat):
            found[entry.name] = entry
    assert found == FORMATS


def test_config_schema_offers_exactly_the_registered_formats():
    formats = SCHEMA["properties"]["particles"]["properties"]["formats"]
    assert formats["items"]["enum"] == list(FORMATS)
    assert formats["default"] == list(FORMATS) and formats["maxItems"] == len(FORMATS)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert config["particles"]["formats"] == list(FORMATS)  # the default run has every format
    for entry in FORMATS.values():
        assert entry.file in formats["description"], f"{entry.file} not described in particles.formats"


def test_docs_name_every_format_writer_and_engine():
    docs = (REPO / "docs" / "extending.md").read_text()
    assert "particles/formats/registry.py" in docs and "plan/table_formats.py" in docs
    tuning = (REPO / "docs" / "tuning.md").read_text()
    for entry in FORMATS.values():
        for writer in entry.writers:
            assert writer.code in tuning, (
                f"{entry.name}: {writer.method} ({writer.setting}) not in docs/tuning.md"
            )


def synthetic_timings() -> pd.DataFrame:
    """One made-up timing per PyTables method the headline reads and per registered
    writer and engine: what a job with every format writes."""
    timing = Timing(0.5, 0.45, 0.55, 3, 1)
    rows = [TimingRow.of("fill", "limit", 1000, timing, format="npy")]
    rows += [TimingRow.of("fill", m, 1000, timing) for m in ("block", "row")]
    rows += [TimingRow.of("query", m, 1000, timing, matches=3) for m in ("where", "iterrows", "read")]
    for entry in FORMATS.values():
        rows += [
            TimingRow.of("fill", w.method, 1000, timing, format=entry.name, file_bytes=10, setting=w.setting)
            for w in entry.writers
        ]
        rows += [
            TimingRow.of(
                "query", e.name, 1000, timing, matches=3, format=entry.name, file_bytes=10, threads=2,
                setting=entry.output.setting,
            )
            for e in entry.engines
        ]  # fmt: skip
    return timings_frame(rows).assign(others_busy=0.0, host="node")


def test_every_writer_and_engine_reaches_the_headline_and_figures():
    """A registered format cannot be dropped from the headline or the figures silently."""
    timings = synthetic_timings()
    headline = pd.DataFrame([vars(h) for h in figures.headline([timings], 2)])
    methods = set(zip(headline["method"], headline["setting"], strict=True))
    for entry in FORMATS.values():
        for writer in entry.writers:
            assert (writer.label, writer.setting) in methods
            assert (entry.name, writer.method, writer.setting) in store_figure.WRITES
        for engine in entry.engines:
            assert (engine.headline, entry.output.setting) in methods
            assert engine.name in figures.ENGINES
            assert (entry.name, engine.name, entry.output.setting) in store_figure.QUERIES
    assert set(headline["setting"]) == {"default", "tuned", "pipeline"}  # every row says how it was set
    fig = store_figure.plot_formats(timings, "pressure < 50")
    labels = {tick.get_text() for ax in fig.axes for tick in ax.get_xticklabels()}
    assert {w.label for e in FORMATS.values() for w in e.writers} <= labels
    assert {e.label for f in FORMATS.values() for e in f.engines} <= labels


def test_unknown_format_is_named():
    with pytest.raises(ValueError, match=r"unknown table format 'feather' \(particles.formats\)"):
        registry.get_format("feather")


def test_every_engine_has_a_thread_count():
    from outofcore.particles.format_bench import PYTABLES, engine_threads

    counts = engine_threads(2)
    assert {e.name for entry in FORMATS.values() for e in entry.engines} | {PYTABLES} == set(counts)
    assert counts["hdfstore"] == 1 and counts[PYTABLES] == 2  # HDFStore's select: a PyTables scan
