"""Stage 2 of the tutorial: the PyTables particle table, filled and queried, every way timed.

One job per table size. It builds the tutorial's `Particle` rows in memory, vectorized,
and writes them to `/detector/readout`: the table the stage delivers comes from direct
chunk writes (uncompressed) or block appends (`table.append`, compressed); it times both
against the tutorial's row-by-row `table.row` loop (capped) and `np.save` of the same
array. Then it runs the
configured query with every method of `particle_queries`, checks that they all find
the same rows and returns them with the timings, one `TimingRow` each.
"""

import contextlib
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tables

from outofcore.core.files import owner_tag, remove_path
from outofcore.core.progress import Progress
from outofcore.core.timing import Point, Timing, measure, measure_interleaved
from outofcore.particles.engines import indexable_columns, to_numexpr
from outofcore.particles.queries import (
    NUMEXPR_METHODS,
    create_indexes,
    drop_indexes,
    indexed_copy,
    matching_rows,
    numexpr_threads,
    open_table,
    query_methods,
    query_point,
)
from outofcore.particles.table import (
    PARTICLE_DTYPE,
    TABLE_PATH,
    check_table,
    delivered_fill,
    fill_appends,
    fill_blocks,
    fill_chunks,
    fill_particles,
    fill_row_by_row,
)
from outofcore.particles.timing_table import (  # noqa: F401 - the stage's modules import them from here
    METHOD_SETTINGS,
    TIMINGS_COLUMNS,
    TimingRow,
    configured,
    timings_frame,
    with_settings,
)
from outofcore.plan.query import Query

REPEATS = 3  # timed samples per method (median, min, max reported)
# From this many rows a fill or fast query sample is a single call (nothing for
# autoranging to average), and on a shared machine one busy spell then moves a median of
# 3: they get more rounds (a few seconds at 10^7 rows; the default sizes stay at REPEATS).
LARGE_FILL_ROWS, LARGE_FILL_REPEATS = 2**22, 7
SLOW_METHODS = {"iterrows", "pandas"}  # a Python object per row or per name: timed apart from the rest


# -- fills -----------------------------------------------------------------------------


def fresh(path: Path) -> Callable[[], None]:
    """A timing setup that deletes `path`: each sample writes a new file instead of
    truncating the last (ext4 then flushes the old one, which would be timed)."""
    return lambda: path.unlink(missing_ok=True)


def timed(log: Any, what: str, func: Callable[[], object], repeats: int = REPEATS, **kwargs: Any) -> Timing:
    """`measure` as a phase of the job's log: start, samples done every 10 s, end."""
    with Progress(log or logging.getLogger("stage"), what, repeats, "samples") as progress:
        return measure(func, repeats, on_sample=progress.advance, **kwargs)


def timed_rounds(log: Any, what: str, points: dict[str, Point], repeats: int = REPEATS) -> dict[str, Timing]:
    """`measure_interleaved` as a phase of the job's log: start, samples done every 10 s, end."""
    total = len(points) * repeats
    with Progress(log or logging.getLogger("stage"), what, total, "samples") as progress:
        return measure_interleaved(points, repeats, on_sample=progress.advance)


def preallocated(path: Path, nbytes: int) -> None:
    """A timing setup: a new file of `nbytes` with its blocks already allocated."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:  # a file system without fallocate: the write allocates
        with contextlib.suppress(OSError, AttributeError):
            os.posix_fallocate(fd, 0, nbytes)
    finally:
        os.close(fd)


def write_raw(path: Path, data: np.ndarray) -> None:
    """The array's bytes written into the (preallocated) file, no header, no format."""
    with open(path, "r+b", buffering=0) as handle:
        handle.write(data.view(np.uint8))


def time_fills(
    table_path: Path, scratch: Path, nrows: int, filters: tables.Filters, row_max: int, log: Any
) -> list[TimingRow]:
    """Time every fill in interleaved rounds (a busy spell slows them alike); leave the
    table of the delivered fill (`delivered_fill`) at `table_path`; check contents.

    The rows are generated into memory (timed as `generate`, which rewrites the same
    values each call); `block`, `chunks` and `limit` (np.save) then write that same
    array, so they compare writing alone."""
    data = np.empty(nrows, dtype=PARTICLE_DTYPE)
    fill_particles(data)
    baseline_rows = min(nrows, row_max)
    row_path, npy_path, raw_path = scratch / "row.h5", scratch / "limit.npy", scratch / "bound.raw"
    delivered = delivered_fill(filters)
    paths = {"block": scratch / "block.h5", "chunks": scratch / "chunks.h5"} | {delivered: table_path}
    block_path, chunks_path, append_path = paths["block"], paths["chunks"], scratch / "append.h5"
    points = {
        "generate": Point(lambda: fill_particles(data)),
        "row": Point(lambda: fill_row_by_row(row_path, baseline_rows, filters), fresh(row_path)),
        "limit": Point(lambda: np.save(npy_path, data), fresh(npy_path)),
        # the fills' true bound: the same bytes into an allocated file, through the page cache
        "page_cache": Point(lambda: write_raw(raw_path, data), lambda: preallocated(raw_path, data.nbytes)),
        "block": Point(lambda: fill_blocks(block_path, data, filters), fresh(block_path)),
        "append": Point(lambda: fill_appends(append_path, data, filters), fresh(append_path)),
    }
    if filters.complevel == 0:
        points["chunks"] = Point(lambda: fill_chunks(chunks_path, data), fresh(chunks_path))
    what = f"fill: {', '.join(points)} in rounds (row by row: {baseline_rows:,} rows)"
    timed = timed_rounds(log, what, points, LARGE_FILL_REPEATS if nrows >= LARGE_FILL_ROWS else REPEATS)
    with Progress(log, "check: the written tables"):
        check_table(row_path, data[:baseline_rows], "row-by-row")
        check_table(block_path, data, "block")
        check_table(append_path, data, "append")
        if "chunks" in timed:
            check_table(chunks_path, data, "chunks")
    sizes = {name: path.stat().st_size for name, path in
             (("row", row_path), ("limit", npy_path), ("block", block_path), ("chunks", chunks_path),
              ("append", append_path), ("page_cache", raw_path))
             if path.exists()}  # fmt: skip
    for path in (row_path, npy_path, block_path, chunks_path, append_path, raw_path):
        if path != table_path:
            path.unlink(missing_ok=True)
    row = timed["row"]
    results = [
        TimingRow.of("fill", "generate", nrows, timed["generate"], format="memory"),
        TimingRow.of("fill", "row", baseline_rows, row, file_bytes=sizes["row"]),
    ]
    if baseline_rows < nrows:  # marked: a linear extrapolation, not a measurement
        results.append(TimingRow.of("fill", "row_extrapolated", nrows, row.scaled(nrows / baseline_rows)))
    results.append(
        TimingRow.of("fill", "limit", nrows, timed["limit"], format="npy", file_bytes=sizes["limit"])
    )
    results.append(
        TimingRow.of(
            "fill", "page_cache", nrows, timed["page_cache"], format="raw", file_bytes=sizes["page_cache"]
        )
    )
    results.append(TimingRow.of("fill", "block", nrows, timed["block"], file_bytes=sizes["block"]))
    results.append(TimingRow.of("fill", "append", nrows, timed["append"], file_bytes=sizes["append"]))
    if "chunks" in timed:
        results.append(TimingRow.of("fill", "chunks", nrows, timed["chunks"], file_bytes=sizes["chunks"]))
    log.info("generate: %.0f rows/s", nrows / timed["generate"].seconds)
    log.info(
        "fill rows/s: row %.3g, block %.3g, np.save %.3g; block / np.save = %.2f; delivered: %s",
        baseline_rows / row.seconds,
        nrows / timed["block"].seconds,
        nrows / timed["limit"].seconds,
        timed["limit"].seconds / timed["block"].seconds,
        delivered,
    )
    return results


# -- queries ---------------------------------------------------------------------------


def run_queries(
    path: Path,
    scratch: Path,
    query: Query,
    threads: int = 1,
    repeats: int = REPEATS,
    log: Any = None,
    keep_indexed: bool = False,
) -> tuple[np.ndarray, list[TimingRow]]:
    """Time every query method on the table at `path`: (matching rows, timing rows).
    `keep_indexed`: its indexed copy stays in `scratch` (`indexed_path`), for more questions."""
    condition = to_numexpr(query)
    log = log or logging.getLogger("stage")
    indexed_file = indexed_copy(path, scratch, threads, keep_indexed)
    with open_table(path, "r", threads) as h5, indexed_file as h5_indexed:
        table, indexed = h5.get_node(TABLE_PATH), h5_indexed.get_node(TABLE_PATH)
        nrows, timings, table_bytes = table.nrows, [], path.stat().st_size
        names = indexable_columns(query)
        if names:
            create_indexes(indexed, names)  # the indexed method's index, before its first call
        if not indexed.will_query_use_indexing(condition):
            log.warning(
                "no index used for %s (column against column, only !=, or a nested (A & B) | (C & D) "
                "that PyTables' index planner gets wrong): 'indexed' scans the table",
                condition,
            )

        with Progress(log, "query: read the table into memory (for the numpy method, not timed)"):
            data = table.read()
        methods = query_methods(table, indexed, path, data, query)
        with Progress(log, "query: every method once, results compared", len(methods), "methods") as progress:
            results = {}
            for method, func in methods.items():
                results[method] = func()
                progress.advance()
        rows = matching_rows(results, table)  # before timing: a disagreement fails fast
        h5_indexed.flush()
        sizes = {"indexed": Path(h5_indexed.filename).stat().st_size, "numpy": None}
        # the fast methods and the full read in interleaved rounds (more of them for large
        # tables, whose samples are single calls); then, in rounds of their own, the index
        # build (each sample starts from no index, as the indexed method needs) and the
        # methods that make millions of Python objects, so their churn of the heap does
        # not fall between the samples of the fast methods
        points = {m: query_point(m, f, threads) for m, f in methods.items()}
        slow = {m: p for m, p in points.items() if m in SLOW_METHODS}
        if names:
            slow["create_csindex"] = Point(
                lambda: create_indexes(indexed, names), lambda: drop_indexes(indexed), 0
            )
        fast = {m: p for m, p in points.items() if m not in SLOW_METHODS} | {"read": Point(table.read)}
        fast_repeats = LARGE_FILL_REPEATS if nrows >= LARGE_FILL_ROWS else repeats
        timed = timed_rounds(log, f"query: {', '.join(fast)} in rounds", fast, max(repeats, fast_repeats))
        timed |= timed_rounds(log, f"query: {', '.join(slow)} in rounds", slow, repeats)
        if names:
            timings.append(
                TimingRow.of(
                    "query", "create_csindex", nrows, timed["create_csindex"], file_bytes=table_bytes
                )
            )
        for method in methods:
            timing = timed[method]
            where = (
                {"format": "memory"} if method == "numpy" else {"file_bytes": sizes.get(method, table_bytes)}
            )
            if method in NUMEXPR_METHODS:
                where["threads"] = numexpr_threads(method, threads)
            timings.append(TimingRow.of("query", method, nrows, timing, matches=len(rows), **where))
            log.info("%s: %.3g s (%d matches)", method, timing.seconds, len(rows))
        timings.append(TimingRow.of("query", "read", nrows, timed["read"], file_bytes=table_bytes))
    return rows, timings


def log_ratios(timings: pd.DataFrame, log: Any) -> None:
    """The comparisons a user choosing a method needs, as speed-up factors (PyTables,
    rows in their generated, sorted order)."""
    timings = timings[(timings["order"] == "sorted") & timings["format"].isin(["pytables", "memory", "npy"])]
    seconds = timings.set_index(["step", "method"])["seconds"]
    rates = timings.set_index(["step", "method"])["rows_per_s"]
    chunks = rates.get(("fill", "chunks"), float("nan")) / rates["fill", "limit"]
    log.info(
        "ratios: block/np.save throughput %.2f, direct chunks/np.save %.2f; where vs iterrows %.1fx; "
        "indexed vs iterrows %.0fx; where / read time %.2f; pandas (read_hdf) / (where + read) %.1f, "
        "pandas (names as bytes) / (where + read) %.2f; generate %.3g rows/s",
        rates["fill", "block"] / rates["fill", "limit"],
        chunks,
        seconds["query", "iterrows"] / seconds["query", "where"],
        seconds["query", "iterrows"] / seconds["query", "indexed"],
        seconds["query", "where"] / seconds["query", "read"],
        seconds["query", "pandas"] / (seconds["query", "where"] + seconds["query", "read"]),
        seconds["query", "pandas_bytes"] / (seconds["query", "where"] + seconds["query", "read"]),
        rates["fill", "generate"],
    )


@contextmanager
def scratch_dir(near: Path) -> Iterator[Path]:
    """A private directory beside the outputs for files the job deletes itself."""
    near.parent.mkdir(parents=True, exist_ok=True)
    for stale in near.parent.glob(".scratch-*"):  # left by a killed job (or planted: a link goes)
        remove_path(stale)
    path = near.with_name(f".scratch-{owner_tag()}")
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
