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
from outofcore.particles.bench import TimingRow, timed_rounds
from outofcore.particles.engines import evaluate, to_numexpr
from outofcore.particles.formats import engine_queries, get_format, to_records
from outofcore.particles.queries import create_indexes, numexpr_threads, open_table, query_point
from outofcore.particles.table import TABLE_PATH
from outofcore.plan.query import Query, parse_query

ID_SHIFT = 34  # row i's idnumber is i * 2**34 (table.fill_particles)

# PyTables' methods for these questions return the rows, as the engines do: read_where
# (with and without an index) and the whole table read then masked by NumPy. The row loop
# and pd.read_hdf answer the configured query only (a Python object per row of the table).
PYTABLES_METHODS = ("read_where", "indexed_read_where", "read_numpy")
# read_where makes a Python object per matching row before reading them (PyTables'
# Table.read_where), a cost that grows with the share asked while a whole table.read()
# does not: at 10^6 rows and 10 % it took 3 times table.read() + a mask, so above this
# share it is not timed (it would lengthen the job and win nothing)
WHERE_MAX_SHARE = 0.02
# Samples per method and share: two (the calibration's and one more round), where the
# configured query takes three. With three, the shares took 6 s of the default run's
# 10^6-row job (28 s without them); two keep a range for the ties at two thirds of it.
SHARE_REPEATS = 2


def read_and_mask(table: Any, query: Query) -> np.ndarray:
    """The whole table read into memory, then the rows NumPy's mask keeps."""
    rows = table.read()
    return rows[evaluate(query, rows)]


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
    """What one order of the rows is queried in: the PyTables table, its indexed copy and
    the Parquet file (None: not configured)."""

    order: str
    table: Path
    indexed: Path
    parquet: Path | None


def time_selectivities(
    questions: list[Selectivity],
    files: OrderFiles,
    records: np.ndarray,
    threads: dict[str, int],
    log: Any,
    repeats: int = SHARE_REPEATS,
) -> list[TimingRow]:
    """Every question on one order of the rows, by every fast method, in interleaved
    rounds per question; each method's answer (kept from its last timed call: no call
    more than the timing's) checked against the known rows (`records`, sorted,
    start..stop-1) before the next question."""
    if not questions:
        return []
    order, rows = files.order, []
    with open_table(files.table, "r", 1) as h5, open_table(files.indexed, "a", 1, chunk_cache=True) as h5i:
        table, indexed = h5.get_node(TABLE_PATH), h5i.get_node(TABLE_PATH)
        if not indexed.cols.pressure.is_indexed:  # the configured query asked another column
            with Progress(log, f"{order} rows: index on pressure (not timed)"):
                create_indexes(indexed, ["pressure"])
        table_bytes = files.table.stat().st_size
        sizes = {"read_where": table_bytes, "indexed_read_where": files.indexed.stat().st_size,
                 "read_numpy": table_bytes}  # fmt: skip
        for question in questions:
            calls = _calls(question, table, indexed, files.parquet, threads)
            if "read_where" not in calls:
                log.info("%s rows, %s: PyTables' read_where not timed above %g %% of the rows "
                         "(a Python object per matching row)", order, question.label,
                         100 * WHERE_MAX_SHARE)  # fmt: skip
            answers: dict[str, Any] = {}  # each method's last answer, checked after its rounds
            points = {method: query_point(method, _keeping(answers, method, call), threads.get(method, 1))
                      for method, call in calls.items()}  # fmt: skip
            what = f"{order} rows, {question.label} of the rows: {', '.join(calls)} in rounds"
            timings = timed_rounds(log, what, points, repeats)
            for method, found in answers.items():
                _check(question, method, found, records, order)
            answers.clear()
            for method, timing in timings.items():
                where = {"order": order, "selectivity": question.fraction, "condition": question.condition}
                if method in PYTABLES_METHODS:
                    where["file_bytes"] = sizes[method]
                    if method != "read_numpy":
                        where["threads"] = numexpr_threads(method, 1)
                else:
                    parquet = get_format("parquet")
                    where |= {"format": parquet.name, "file_bytes": files.parquet.stat().st_size,
                              "threads": threads[method], "setting": parquet.output.setting}  # fmt: skip
                rows.append(TimingRow.of("query", method, question.nrows, timing, matches=question.matches,
                                         **where))  # fmt: skip
            seconds = {method: t.seconds for method, t in timings.items()}
            log.info("%s rows, %s (%d matches, all exact): %s; fastest %s", order, question.label,
                     question.matches, ", ".join(f"{m} {s:.3g} s" for m, s in seconds.items()),
                     min(seconds, key=seconds.get))  # fmt: skip
    return rows


def _calls(
    question: Selectivity, table: Any, indexed: Any, parquet: Path | None, threads: dict[str, int]
) -> dict[str, Callable[[], Any]]:
    """Every method's call for one question (read_where up to WHERE_MAX_SHARE)."""
    calls: dict[str, Callable[[], Any]] = {"read_numpy": lambda: read_and_mask(table, question.query)}
    if question.fraction <= WHERE_MAX_SHARE:
        calls["read_where"] = lambda: table.read_where(question.condition)
        calls["indexed_read_where"] = lambda: indexed.read_where(question.condition)
    if parquet is not None:
        calls |= engine_queries({"parquet": parquet}, question.query, threads["duckdb"])
    return calls


def _keeping(answers: dict[str, Any], method: str, call: Callable[[], Any]) -> Callable[[], None]:
    """`call`, its answer kept in `answers[method]` (replaced by the next call's)."""

    def run() -> None:
        answers[method] = call()

    return run


def _check(question: Selectivity, method: str, found: Any, records: np.ndarray, order: str) -> None:
    """RuntimeError unless `found` holds exactly the question's rows, in any order. Row i
    of the table has idnumber i * 2**34, so each row found names its row: every row from
    start to stop once, then every column equal to that row's (column by column: no
    sort or gather of whole records, which at half a million shuffled rows took seconds)."""
    found = found if isinstance(found, np.ndarray) else to_records(found)
    where = f"{method} ({order} rows, {question.condition})"
    if len(found) != question.matches:
        raise RuntimeError(f"{where} found {len(found)} rows, the table holds {question.matches}")
    ids = found["idnumber"]
    rows = ids >> ID_SHIFT
    seen = np.zeros(question.matches, dtype=bool)
    inside = (rows >= question.start) & (rows < question.stop) & (rows << ID_SHIFT == ids)
    if not inside.all():
        raise RuntimeError(
            f"query engines disagree: {where} returned rows outside {question.start}..{question.stop - 1}"
        )
    seen[rows - question.start] = True
    if not seen.all():
        raise RuntimeError(f"query engines disagree: {where} returned a row twice and missed another")
    for column in records.dtype.names or ():
        if not np.array_equal(found[column], records[column][rows]):
            raise RuntimeError(f"query engines disagree: {where} returned other values in {column}")
