"""The particle stage's table formats by name: one line per format module.

The rules know each format's output file from `outofcore.plan.table_formats` (standard
library only, read by the Snakemake process); loading this registry fails if that
description and the entries below disagree. The config schema's `particles.formats`
enum and the docs are checked against `FORMATS` by the tests.
"""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from outofcore.particles.formats import hdfstore, parquet
from outofcore.particles.formats.table_format import SETTINGS, TableFormat
from outofcore.plan import table_formats
from outofcore.plan.query import Query

FORMATS: dict[str, TableFormat] = {
    entry.name: entry
    for entry in (
        parquet.FORMAT,
        hdfstore.FORMAT,
    )
}


def disagreements(formats: Mapping[str, TableFormat], described: Mapping[str, str]) -> list[str]:
    """Where the registry and the rules' description of the formats differ, and entries
    that could not be told apart in timings.csv (empty: none)."""
    problems = [f"{name}: in the rules' description only" for name in described.keys() - formats.keys()]
    problems += [f"{name}: in the registry only" for name in formats.keys() - described.keys()]
    for name in formats.keys() & described.keys():
        if formats[name].file != described[name]:
            problems.append(f"{name}: registry file {formats[name].file}, rules {described[name]}")
    seen: dict[str, str] = {}
    for name, entry in formats.items():
        if name != entry.name:
            problems.append(f"{name}: registered under another name than its own, {entry.name}")
        if not entry.writers or not entry.engines:
            problems.append(f"{name}: needs a writer and an engine")
        for writer in entry.writers:
            if writer.setting not in SETTINGS:
                problems.append(f"{name}: writer {writer.method} setting {writer.setting!r}")
        keys = [f"{w.method} ({w.setting})" for w in entry.writers] + [e.name for e in entry.engines]
        for key in keys:  # a method names one format's row
            if seen.setdefault(key, name) != name or keys.count(key) > 1:
                problems.append(f"{name}: {key} is not unique")
    return sorted(problems)


def get_format(name: str) -> TableFormat:
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(FORMATS)
        raise ValueError(f"unknown table format {name!r} (particles.formats); known: {known}") from None


def engine_queries(paths: dict[str, Path], query: Query, threads: int) -> dict[str, Callable[[], Any]]:
    """Every engine over the files in `paths` (format -> file): each call runs the whole
    query (opens the file, filters, collects the rows) and returns the engine's result.
    An engine that cannot express the query is left out."""
    calls: dict[str, Callable[[], Any]] = {}
    for fmt, path in paths.items():
        calls |= get_format(fmt).queries(path, query, threads)
    return calls


_problems = disagreements(FORMATS, table_formats.FILES)
if _problems:
    raise ImportError(
        "table formats: outofcore.particles.formats.registry and "
        "outofcore.plan.table_formats disagree: " + "; ".join(_problems)
    )
