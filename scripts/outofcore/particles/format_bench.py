"""The particle table against the other stores, timed: writes and the same query per engine.

For each configured order of the rows (`sorted`: row i has pressure i*i, so the rows are
sorted by every numeric column, the queried one included, as the PyTables table the stage
delivers; `shuffled`: the same rows in a seeded random order), the records are written to
every configured format and the query is run by every engine. Every engine must return
exactly the rows PyTables found, or the job fails. For the shuffled order PyTables itself
is timed again on a shuffled copy (block fill, `where`, and `where` after an index).
The sorted order's files are the job's outputs; the shuffled ones are scratch. To keep
the job short, the shuffled order's writes and its index build (both timed on the sorted
rows with every sample) are timed once (`repeats` 1).
"""

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from outofcore.core.files import OutputWriteError, atomic_output
from outofcore.core.seeding import rng_for
from outofcore.core.timing import Point, measure_interleaved
from outofcore.particles.bench import METHOD_SETTINGS, REPEATS, TimingRow, fresh, timed, timed_rounds
from outofcore.particles.engines import indexable_columns, to_numexpr
from outofcore.particles.formats import (
    FORMATS,
    engine_queries,
    get_format,
    same_rows,
    set_engine_threads,
    to_records,
)
from outofcore.particles.formats.table_format import WriteOptions, Writer
from outofcore.particles.queries import (
    create_indexes,
    drop_indexes,
    indexed_copy,
    indexed_path,
    numexpr_threads,
    open_table,
    query_point,
    with_numexpr_threads,
)
from outofcore.particles.table import TABLE_PATH, fill_blocks
from outofcore.plan.query import Query

ORDERS = ("sorted", "shuffled")
PYTABLES = "pytables"


@dataclass(frozen=True)
class FormatSettings:
    """What the config says about the other stores."""

    formats: list[str]
    orders: list[str]
    parquet_compression: str
    parquet_row_group_rows: int
    seed: int


def engine_threads(threads: int) -> dict[str, int]:
    """The threads of every registered engine (and `pytables`, blosc's) in a job of
    `threads`: the libraries' pools set to it; HDFStore's select is a PyTables scan
    (`numexpr_threads`). A registered engine without a count here is an error."""
    counts = set_engine_threads(threads) | {
        "hdfstore": numexpr_threads("hdfstore", threads),
        PYTABLES: threads,
    }
    missing = [e.name for entry in FORMATS.values() for e in entry.engines if e.name not in counts]
    if missing:
        raise RuntimeError(f"no thread count for the engines {missing}: add them to engine_threads")
    return counts


def ordered(records: np.ndarray, order: str, seed: int) -> np.ndarray:
    if order == "sorted":
        return records
    permutation = rng_for(seed, f"particles shuffled {len(records)}").permutation(len(records))
    return records[permutation]


def named_write(writer: Writer, path: Path, records: np.ndarray, options: WriteOptions) -> None:
    """A timed write; a failure (a full disk: a bare `OSError: [Errno 28]` from Arrow or
    HDF5) names the file it was writing."""
    try:
        writer.write(path, records, options)
    except OSError as error:
        raise OutputWriteError(f"could not write {path}: {type(error).__name__}: {error}") from error


def write_options(settings: FormatSettings, query: Query) -> WriteOptions:
    return WriteOptions(query, settings.parquet_compression, settings.parquet_row_group_rows)


def time_writes(
    records: np.ndarray,
    paths: dict[str, Path],
    order: str,
    options: WriteOptions,
    log: Any,
    verify: Callable[[str, Path], None],
    repeats: int = REPEATS,
    every_writer: bool = True,
) -> list[TimingRow]:
    """Write the records with the writers of every format at `paths` (format -> file),
    each write timed. A format's first writer writes its file at `paths`; the others
    (with `every_writer`) write beside it, and their file is checked by `verify` (its
    query answer) and deleted. The tuned writers are timed in `repeats` interleaved
    rounds; the `default` ones (what tuning is worth) in one round after them, which
    keeps the job's time near what one writer per format took."""
    targets: dict[tuple[str, Writer], Path] = {}
    for fmt, path in paths.items():
        for writer in get_format(fmt).writers if every_writer else (get_format(fmt).output,):
            beside = path.with_name(f"{path.name}.{writer.method}.{writer.setting}")
            targets[fmt, writer] = path if writer is get_format(fmt).output else beside
    points = {
        key: Point(lambda w=key[1], p=path: named_write(w, p, records, options), fresh(path))
        for key, path in targets.items()
    }
    defaults = {key: point for key, point in points.items() if key[1].setting == "default"}
    tuned = {key: point for key, point in points.items() if key not in defaults}
    timings = measure_interleaved(tuned, repeats)  # in rounds: a busy spell slows every store alike
    timings |= measure_interleaved(defaults, 1) if defaults else {}
    rows = []
    for (fmt, writer), path in targets.items():
        timing, size = timings[fmt, writer], path.stat().st_size  # the file of the last round
        rows.append(
            TimingRow.of(
                "fill", writer.method, len(records), timing, order=order, format=fmt, file_bytes=size,
                setting=writer.setting,
            )
        )  # fmt: skip
        log.info("%s %s write (%s): %.3g s, %d bytes", order, fmt, writer.label, timing.seconds, size)
        if path != paths[fmt]:
            verify(fmt, path)
            path.unlink()
    return rows


def same_answer(query: Query, expected: np.ndarray, order: str) -> Callable[[str, Path], None]:
    """A check of a written file: its format's first engine finds exactly `expected`
    (a format whose engines cannot express the query is checked by the others' files)."""

    def verify(fmt: str, path: Path) -> None:
        calls = get_format(fmt).queries(path, query, 1)
        for engine, call in list(calls.items())[:1]:
            same_rows(expected, to_records(call()), f"{engine} on {path.name} ({order} rows)")

    return verify


def time_engines(
    paths: dict[str, Path],
    query: Query,
    expected: np.ndarray,
    nrows: int,
    order: str,
    threads: dict[str, int],
    log: Any,
) -> list[TimingRow]:
    """Run every engine on the files and check its rows against PyTables'; then time them
    all in interleaved rounds."""
    calls = engine_queries(paths, query, threads["duckdb"])  # threads: engine -> count
    engines = {engine.name: fmt for fmt in paths for engine in get_format(fmt).engines}
    for engine in [name for name in engines if name not in calls]:
        log.warning("%s cannot express %s: not timed", engine, to_numexpr(query))
        del engines[engine]
    for engine in engines:  # every answer checked before any is timed
        same_rows(expected, to_records(calls[engine]()), f"{engine} ({order} rows)")
    points = {engine: query_point(engine, calls[engine], threads[engine]) for engine in engines}
    timings = timed_rounds(log, f"{order} rows: the engines' queries in rounds", points, REPEATS)
    rows = []
    for engine, fmt in engines.items():
        path, timing = paths[fmt], timings[engine]
        rows.append(
            TimingRow.of(
                "query", engine, nrows, timing, matches=len(expected), order=order, format=fmt,
                file_bytes=path.stat().st_size, threads=threads[engine],
                setting=get_format(fmt).output.setting,  # the engines read the format's own file
            )
        )  # fmt: skip
        log.info("%s %s: %.3g s (%d matches)", order, engine, timing.seconds, len(expected))
    return rows


def time_pytables_shuffled(
    records: np.ndarray,
    scratch: Path,
    query: Query,
    expected: np.ndarray,
    threads: int,
    filters: Any,
    log: Any = None,
    keep: bool = False,
) -> list[TimingRow]:
    """PyTables on the shuffled rows: block fill, in-kernel `where`, indexed `where` (the
    index built once, timed). `keep`: the table (`shuffled_table`) and its indexed copy
    stay in `scratch`, for more questions."""
    path, nrows, condition = shuffled_table(scratch), len(records), to_numexpr(query)
    fill = timed(log, "shuffled rows: PyTables block fill", lambda: fill_blocks(path, records, filters),
                 REPEATS, setup=fresh(path))  # fmt: skip
    size = path.stat().st_size
    rows = [TimingRow.of("fill", "block", nrows, fill, order="shuffled", file_bytes=size)]

    def where(table: Any) -> Callable[[], np.ndarray]:  # row numbers, as the sorted `where`
        return lambda: np.asarray([row.nrow for row in table.where(condition)], dtype=np.int64)

    with open_table(path, "r", threads) as h5, indexed_copy(path, scratch, threads, keep) as h5_indexed:
        table, indexed = h5.get_node(TABLE_PATH), h5_indexed.get_node(TABLE_PATH)
        names = indexable_columns(query)
        if names:  # each sample starts from no index
            build = timed(log, "shuffled rows: index build", lambda: create_indexes(indexed, names), 1,
                          min_time=0, setup=lambda: drop_indexes(indexed))  # fmt: skip
            rows.append(
                TimingRow.of("query", "create_csindex", nrows, build, order="shuffled", file_bytes=size)
            )
        h5_indexed.flush()
        indexed_size = Path(h5_indexed.filename).stat().st_size
        for method, source, nbytes in [("where", table, size), ("indexed", indexed, indexed_size)]:
            call = where(source)
            same_rows(expected, source.read_coordinates(call()), f"{method} (shuffled rows)")
            count = numexpr_threads(method, threads)
            timing = timed(log, f"shuffled rows: {method}", call, REPEATS, setup=with_numexpr_threads(count))
            rows.append(
                TimingRow.of(
                    "query", method, nrows, timing, matches=len(expected), order="shuffled",
                    file_bytes=nbytes, threads=count,
                )
            )  # fmt: skip
    if not keep:
        path.unlink()
    return rows


def shuffled_table(scratch: Path) -> Path:
    """The PyTables table of the shuffled rows (`time_pytables_shuffled`)."""
    return scratch / "shuffled.h5"


def compare_formats(
    records: np.ndarray,
    outputs: dict[str, Path],
    scratch: Path,
    query: Query,
    expected: np.ndarray,
    settings: FormatSettings,
    threads: dict[str, int],
    filters: Any,
    log: Any,
    also: Callable[[str, np.ndarray, dict[str, Path]], list[TimingRow]] | None = None,
) -> list[TimingRow]:
    """Every configured order and format: writes, then queries, each checked and timed.

    `outputs` (format -> file) receive the sorted rows whether or not `sorted` is timed;
    `threads` maps each engine (and `pytables`, blosc's count) to its thread count.
    `also(order, rows in that order, format -> file)` times more questions on each order
    while its files exist (the shuffled PyTables table and its indexed copy among them)."""
    rows: list[TimingRow] = []
    options = write_options(settings, query)
    for order in settings.orders:
        data = ordered(records, order, settings.seed)
        if order == "sorted":  # the outputs: written under a temporary name, renamed when complete
            with ExitStack() as stack:
                partial = {fmt: stack.enter_context(atomic_output(path)) for fmt, path in outputs.items()}
                rows += time_writes(data, partial, order, options, log, same_answer(query, expected, order))
            paths = outputs
        else:  # the shuffled rows: each format's own file only, timed once
            paths = {fmt: scratch / f"{order}.{fmt}" for fmt in outputs}
            verify = same_answer(query, expected, order)
            rows += time_writes(data, paths, order, options, log, verify, repeats=1, every_writer=False)
        rows += time_engines(paths, query, expected, len(records), order, threads, log)
        if order == "shuffled":
            pytables = threads[PYTABLES]
            rows += time_pytables_shuffled(data, scratch, query, expected, pytables, filters, log, bool(also))
        if also:
            rows += also(order, data, paths)
        if order != "sorted":
            table = shuffled_table(scratch)
            for path in [*paths.values(), table, indexed_path(table, scratch)]:
                path.unlink(missing_ok=True)
    if "sorted" not in settings.orders:  # the outputs all the same, written once, untimed
        for fmt, path in outputs.items():
            with atomic_output(path) as partial_path:
                get_format(fmt).output.write(partial_path, records, options)
    return rows


def log_format_ratios(timings: Any, log: Any) -> None:
    """Each store's write against PyTables' block fill and each engine's query against
    PyTables' `where`, per order and setting: the table a user choosing a store reads."""
    if "setting" not in timings:
        return
    for order, frame in timings.groupby("order", sort=False):
        by = frame.set_index(["step", "method", "setting"])["seconds"]
        where_at = ("query", "where", METHOD_SETTINGS["where"])
        if ("fill", "block", "tuned") not in by.index or where_at not in by.index:
            continue
        writers = dict.fromkeys((w.method, w.setting) for entry in FORMATS.values() for w in entry.writers)
        engines = [(engine.name, "tuned") for entry in FORMATS.values() for engine in entry.engines]
        block, where = by["fill", "block", "tuned"], by[where_at]
        writes = [f"{m} ({s}) {by['fill', m, s] / block:.3g}x" for m, s in writers if ("fill", m, s) in by]
        queries = [
            f"{m} {by['query', m, s] / where:.3g}x"
            for m, s in (("indexed", "tuned"), *engines)
            if ("query", m, s) in by.index
        ]
        log.info(
            "%s rows: write time / PyTables block: %s; query time / PyTables where: %s",
            order,
            ", ".join(writes),
            ", ".join(queries),
        )
