"""The questions users ask of a table beside the configured query: "give me 1 %, 10 %,
50 % of the rows" (`particles.queries`, fractions of the rows).

Each fraction f of an n-row table becomes a range of `pressure` holding the middle
k = round(f * n) rows (at least one): `(pressure >= p(a)) & (pressure < p(a + k))` with
a = (n - k) // 2 and p(i) row i's stored pressure, float32(i * i) as the table's
generator makes it. The pressures never decrease with the row, so the rows matching
are exactly those from the first row whose pressure reaches p(a) to the first whose
pressure reaches p(a + k): known before any query runs, and every method's answer is
checked against them. (Below 2**24 rows every pressure is distinct and the count is k;
above, neighbouring rows can share a float32, and the bounds say exactly how many.)
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from outofcore.core.progress import Progress
from outofcore.particles.bench import REPEATS, TimingRow, timed_rounds
from outofcore.particles.engines import evaluate, to_numexpr
from outofcore.particles.formats import engine_queries, get_format, same_rows, to_records
from outofcore.particles.queries import create_indexes, numexpr_threads, open_table, query_point
from outofcore.particles.table import TABLE_PATH
from outofcore.plan.query import Query, parse_query

# PyTables' methods for these questions return the rows, as the engines do (`read_where`,
# not a Python object per row): the row loop and pd.read_hdf answer the configured query only.
PYTABLES_METHODS = ("read_where", "indexed_read_where")


def pressure_of(i: int) -> float:
    """Row i's stored pressure exactly as `table.fill_particles` makes it: i*i as the
    correctly rounded float64, then rounded to float32."""
    square = np.float64(i) * np.float64(i)
    return float(np.float32(square))


def first_row_reaching(value: float, nrows: int) -> int:
    """The first row whose pressure is >= `value` (`nrows` if none): a binary search,
    exact because the pressures never decrease with the row."""
    low, high = 0, nrows
    while low < high:
        middle = (low + high) // 2
        if pressure_of(middle) >= value:
            high = middle
        else:
            low = middle + 1
    return low


@dataclass(frozen=True)
class Selectivity:
    """One question: a fraction of the rows asked, the condition that returns them."""

    fraction: float  # asked: the share of the rows
    nrows: int
    start: int  # the matching rows are start..stop-1 of the sorted table
    stop: int
    query: Query  # the checked tree every engine's condition is built from

    @property
    def matches(self) -> int:
        return self.stop - self.start

    @property
    def condition(self) -> str:
        return to_numexpr(self.query)

    @property
    def label(self) -> str:
        """The fraction asked, as a user says it: '1 %', '0.5 %'."""
        return f"{100 * self.fraction:g} %"


def selectivity(fraction: float, nrows: int) -> Selectivity:
    """The question "`fraction` of the rows" on the n-row particle table (see the module)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"particles.queries: a fraction of the rows must be in (0, 1], got {fraction!r}")
    if nrows < 1:
        raise ValueError(f"particles.queries: the table has no rows ({nrows})")
    count = min(nrows, max(1, round(fraction * nrows)))
    first = (nrows - count) // 2
    low = pressure_of(first)
    text = f"pressure >= {low!r}"
    if first + count < nrows:  # else every row from `first` on: no upper bound
        text = f"({text}) & (pressure < {pressure_of(first + count)!r})"
        stop = first_row_reaching(pressure_of(first + count), nrows)
    else:
        stop = nrows
    return Selectivity(fraction, nrows, first_row_reaching(low, nrows), stop, parse_query(text))


def selectivities(fractions: list[float], nrows: int) -> list[Selectivity]:
    """One question per configured fraction, in the config's order."""
    return [selectivity(float(fraction), nrows) for fraction in fractions]


@dataclass(frozen=True)
class OrderFiles:
    """What one order of the rows is queried in: the PyTables table, its indexed copy, the
    Parquet file (None: not configured) and the rows in memory (NumPy)."""

    order: str
    table: Path
    indexed: Path
    parquet: Path | None
    data: np.ndarray


def time_selectivities(
    questions: list[Selectivity],
    files: OrderFiles,
    records: np.ndarray,
    threads: dict[str, int],
    log: Any,
    repeats: int = REPEATS,
) -> list[TimingRow]:
    """Every question on one order of the rows, by every fast method: each answer checked
    against the known rows (`records`, sorted, start..stop-1) before any is timed, then
    all timed in interleaved rounds."""
    if not questions:
        return []
    order = files.order
    with open_table(files.table, "r", 1) as h5, open_table(files.indexed, "a", 1, chunk_cache=True) as h5i:
        table, indexed = h5.get_node(TABLE_PATH), h5i.get_node(TABLE_PATH)
        if not indexed.cols.pressure.is_indexed:  # the configured query asked another column
            with Progress(log, f"{order} rows: index on pressure (not timed)"):
                create_indexes(indexed, ["pressure"])
        calls: dict[tuple[int, str], Callable[[], Any]] = {}
        for number, question in enumerate(questions):
            condition = question.condition
            calls[number, "read_where"] = lambda c=condition: table.read_where(c)
            calls[number, "indexed_read_where"] = lambda c=condition: indexed.read_where(c)
            calls[number, "numpy"] = lambda q=question.query: files.data[evaluate(q, files.data)]
            if files.parquet is not None:
                engines = engine_queries({"parquet": files.parquet}, question.query, threads["duckdb"])
                calls |= {(number, engine): call for engine, call in engines.items()}
        what = f"{order} rows, {len(questions)} shares of the rows: every method once, answers compared"
        with Progress(log, what, len(calls), "queries") as progress:
            for (number, method), call in calls.items():
                question = questions[number]
                found = call()
                found = found if isinstance(found, np.ndarray) else to_records(found)
                if len(found) != question.matches:
                    raise RuntimeError(
                        f"{method} found {len(found)} rows for {question.condition} ({order} rows), "
                        f"the table holds {question.matches}"
                    )
                same_rows(records[question.start : question.stop], found, f"{method} ({order} rows)")
                progress.advance()
        points = {key: query_point(key[1], call, threads.get(key[1], 1)) for key, call in calls.items()}
        names = ", ".join(dict.fromkeys(method for _, method in calls))
        timings = timed_rounds(log, f"{order} rows: {names} on {_labels(questions)} of the rows in rounds",
                               points, repeats)  # fmt: skip
        sizes = {"read_where": files.table.stat().st_size, "indexed_read_where": files.indexed.stat().st_size}
    rows = []
    for (number, method), timing in timings.items():
        question = questions[number]
        where: dict[str, Any] = {"order": order, "selectivity": question.fraction}
        where["condition"] = question.condition
        if method == "numpy":
            where["format"] = "memory"
        elif method in PYTABLES_METHODS:
            where |= {"file_bytes": sizes[method], "threads": numexpr_threads(method, 1)}
        else:
            parquet = get_format("parquet")
            where |= {"format": parquet.name, "file_bytes": files.parquet.stat().st_size,
                      "threads": threads[method], "setting": parquet.output.setting}  # fmt: skip
        rows.append(TimingRow.of("query", method, question.nrows, timing, matches=question.matches, **where))
    for number, question in enumerate(questions):
        mine = {method: t.seconds for (n, method), t in timings.items() if n == number}
        best = min(mine, key=mine.get)
        log.info("%s rows, %s (%d matches): %s; fastest %s", order, question.label, question.matches,
                 ", ".join(f"{m} {s:.3g} s" for m, s in mine.items()), best)  # fmt: skip
    return rows


def _labels(questions: list[Selectivity]) -> str:
    return ", ".join(q.label for q in questions)
