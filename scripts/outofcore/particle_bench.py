"""Stage 2 of the tutorial: the PyTables particle table, filled and queried, every way timed.

One job per table size. It builds the tutorial's `Particle` rows in memory, vectorized,
and writes them to `/detector/readout` with block appends (`table.append`), the table
the stage delivers; it times that against the tutorial's row-by-row `table.row` loop
(capped), direct chunk writes and `np.save` of the same array. Then it runs the
configured query with every method of `particle_queries`, checks that they all find
the same rows and returns them with the timings, one `TimingRow` each.
"""

import logging
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tables

from outofcore.io_utils import owner_tag
from outofcore.particle_queries import (
    create_indexes,
    drop_indexes,
    indexed_copy,
    matching_rows,
    open_table,
    query_methods,
)
from outofcore.particle_table import (
    PARTICLE_DTYPE,
    TABLE_PATH,
    check_table,
    fill_blocks,
    fill_chunks,
    fill_particles,
    fill_row_by_row,
)
from outofcore.plan.query import Query
from outofcore.progress import Progress
from outofcore.query_engines import indexable_columns, to_numexpr
from outofcore.timing import Timing, measure

REPEATS = 3  # timed samples per method (median, min, max reported)
NUMEXPR_METHODS = {"where", "read_where", "indexed", "pandas"}  # numexpr runs their condition


@dataclass(frozen=True)
class TimingRow:
    """One line of timings.csv: a fill or a query method timed at one table size."""

    step: str  # "fill" or "query"
    method: str
    rows: int  # rows written, or in the table queried
    matches: int | None  # rows the query found (query methods only)
    seconds: float  # median seconds per call
    seconds_min: float
    seconds_max: float
    repeats: int
    rows_per_s: float
    order: str = "sorted"  # of the rows: sorted by the queried column (as generated) or shuffled
    format: str = "pytables"  # the store: pytables, parquet, hdfstore (numpy: none, in memory)
    file_bytes: int | None = None  # size of the file written or queried
    threads: int | None = None  # threads the job gave the method's engine, if it uses several

    @classmethod
    def of(
        cls, step: str, method: str, rows: int, timing: Timing, matches: int | None = None, **where: Any
    ) -> "TimingRow":
        """`where`: order, format, file_bytes, threads."""
        return cls(
            step=step,
            method=method,
            rows=rows,
            matches=matches,
            seconds=timing.seconds,
            seconds_min=timing.seconds_min,
            seconds_max=timing.seconds_max,
            repeats=timing.repeats,
            rows_per_s=rows / timing.seconds,
            **where,
        )


TIMINGS_COLUMNS = [field.name for field in fields(TimingRow)]


def timings_frame(rows: list[TimingRow]) -> pd.DataFrame:
    """The rows as timings.csv holds them: `matches` empty where it does not apply."""
    frame = pd.DataFrame([asdict(row) for row in rows], columns=TIMINGS_COLUMNS)
    for column in ("matches", "file_bytes", "threads"):
        frame[column] = frame[column].astype("Int64")
    return frame


# -- fills -----------------------------------------------------------------------------


def fresh(path: Path) -> Callable[[], None]:
    """A timing setup that deletes `path`: each sample writes a new file instead of
    truncating the last (ext4 then flushes the old one, which would be timed)."""
    return lambda: path.unlink(missing_ok=True)


def timed(log: Any, what: str, func: Callable[[], object], repeats: int = REPEATS, **kwargs: Any) -> Timing:
    """`measure` as a phase of the job's log: start, samples done every 10 s, end."""
    with Progress(log or logging.getLogger("stage"), what, repeats, "samples") as progress:
        return measure(func, repeats, on_sample=progress.advance, **kwargs)


def time_fills(
    table_path: Path, scratch: Path, nrows: int, filters: tables.Filters, row_max: int, log: Any
) -> list[TimingRow]:
    """Time every fill; leave the block-filled table at `table_path`; check contents.

    The rows are generated once into memory (timed as `generate`); `block`, `chunks` and
    `limit` (np.save) then write that same array, so they compare writing alone."""
    data = np.empty(nrows, dtype=PARTICLE_DTYPE)
    generate = timed(log, "fill: generate rows", lambda: fill_particles(data))
    results = [TimingRow.of("fill", "generate", nrows, generate, format="memory")]
    log.info("generate: %.0f rows/s", nrows / generate.seconds)

    baseline_rows = min(nrows, row_max)
    row_path = scratch / "row.h5"
    row = timed(log, f"fill: row by row ({baseline_rows:,} rows)",
                lambda: fill_row_by_row(row_path, baseline_rows, filters), setup=fresh(row_path))  # fmt: skip
    with Progress(log, "check: row-by-row table"):
        check_table(row_path, data[:baseline_rows], "row-by-row")
    row_bytes = row_path.stat().st_size
    row_path.unlink()
    results.append(TimingRow.of("fill", "row", baseline_rows, row, file_bytes=row_bytes))
    if baseline_rows < nrows:  # marked: a linear extrapolation, not a measurement
        scale = nrows / baseline_rows
        extrapolated = Timing(
            row.seconds * scale, row.seconds_min * scale, row.seconds_max * scale, row.repeats, 1
        )
        results.append(TimingRow.of("fill", "row_extrapolated", nrows, extrapolated))

    npy_path = scratch / "limit.npy"
    limit = timed(log, "fill: np.save (the limit)", lambda: np.save(npy_path, data), setup=fresh(npy_path))
    npy_bytes = npy_path.stat().st_size
    npy_path.unlink()
    results.append(TimingRow.of("fill", "limit", nrows, limit, format="npy", file_bytes=npy_bytes))

    block = timed(log, "fill: block appends", lambda: fill_blocks(table_path, data, filters),
                  setup=fresh(table_path))  # fmt: skip
    with Progress(log, "check: block-filled table"):
        check_table(table_path, data, "block")
    results.append(TimingRow.of("fill", "block", nrows, block, file_bytes=table_path.stat().st_size))
    if filters.complevel == 0:
        chunks_path = scratch / "chunks.h5"
        chunks = timed(log, "fill: direct chunk writes", lambda: fill_chunks(chunks_path, data),
                       setup=fresh(chunks_path))  # fmt: skip
        with Progress(log, "check: chunk-written table"):
            check_table(chunks_path, data, "chunks")
        chunks_bytes = chunks_path.stat().st_size
        chunks_path.unlink()
        results.append(TimingRow.of("fill", "chunks", nrows, chunks, file_bytes=chunks_bytes))
    log.info(
        "fill rows/s: row %.3g, block %.3g, np.save %.3g; block / np.save = %.2f",
        baseline_rows / row.seconds,
        nrows / block.seconds,
        nrows / limit.seconds,
        limit.seconds / block.seconds,
    )
    return results


# -- queries ---------------------------------------------------------------------------


def run_queries(
    path: Path, scratch: Path, query: Query, threads: int = 1, repeats: int = REPEATS, log: Any = None
) -> tuple[np.ndarray, list[TimingRow]]:
    """Time every query method on the table at `path`: (matching rows, timing rows)."""
    condition = to_numexpr(query)
    log = log or logging.getLogger("stage")
    with open_table(path, "r", threads) as h5, indexed_copy(path, scratch, threads) as h5_indexed:
        table, indexed = h5.get_node(TABLE_PATH), h5_indexed.get_node(TABLE_PATH)
        nrows, timings, table_bytes = table.nrows, [], path.stat().st_size
        names = indexable_columns(query)
        if names:  # one index build per sample: each sample starts from no index
            what = f"query: index build ({', '.join(names)})"
            build = timed(log, what, lambda: create_indexes(indexed, names), repeats, min_time=0,
                          setup=lambda: drop_indexes(indexed))  # fmt: skip
            timings.append(TimingRow.of("query", "create_csindex", nrows, build, file_bytes=table_bytes))
        if not indexed.will_query_use_indexing(condition):
            log.warning(
                "no index used for %s (column against column, only !=, or a nested (A & B) | (C & D) "
                "that PyTables' index planner gets wrong): 'indexed' scans the table",
                condition,
            )

        with Progress(log, "query: read the table into memory (for the numpy method, not timed)"):
            data = table.read()
        read = timed(log, "query: full table.read()", table.read, repeats)
        methods = query_methods(table, indexed, path, data, query)
        with Progress(log, "query: every method once, results compared", len(methods), "methods") as progress:
            results = {}
            for method, func in methods.items():
                results[method] = func()
                progress.advance()
        rows = matching_rows(results, table)  # before timing: a disagreement fails fast
        h5_indexed.flush()
        sizes = {"indexed": Path(h5_indexed.filename).stat().st_size, "numpy": None}
        for method, func in methods.items():
            timing = timed(log, f"query: {method}", func, repeats)
            where = (
                {"format": "memory"} if method == "numpy" else {"file_bytes": sizes.get(method, table_bytes)}
            )
            if method in NUMEXPR_METHODS:
                where["threads"] = threads
            timings.append(TimingRow.of("query", method, nrows, timing, matches=len(rows), **where))
            log.info("%s: %.3g s (%d matches)", method, timing.seconds, len(rows))
        timings.append(TimingRow.of("query", "read", nrows, read, file_bytes=table_bytes))
    return rows, timings


def log_ratios(timings: pd.DataFrame, log: Any) -> None:
    """The comparisons a user choosing a method needs, as speed-up factors (PyTables,
    rows in their generated, sorted order)."""
    timings = timings[(timings["order"] == "sorted") & timings["format"].isin(["pytables", "memory", "npy"])]
    seconds = timings.set_index(["step", "method"])["seconds"]
    rates = timings.set_index(["step", "method"])["rows_per_s"]
    log.info(
        "ratios: block/np.save throughput %.2f; where vs iterrows %.1fx; indexed vs iterrows %.0fx; "
        "where / read time %.2f; generate %.3g rows/s",
        rates["fill", "block"] / rates["fill", "limit"],
        seconds["query", "iterrows"] / seconds["query", "where"],
        seconds["query", "iterrows"] / seconds["query", "indexed"],
        seconds["query", "where"] / seconds["query", "read"],
        rates["fill", "generate"],
    )


@contextmanager
def scratch_dir(near: Path) -> Iterator[Path]:
    """A private directory beside the outputs for files the job deletes itself."""
    near.parent.mkdir(parents=True, exist_ok=True)
    for stale in near.parent.glob(".scratch-*"):  # left by a killed job
        shutil.rmtree(stale, ignore_errors=True)
    path = near.with_name(f".scratch-{owner_tag()}")
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
