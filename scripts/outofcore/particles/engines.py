"""The checked particle query as each engine takes it: one translation per engine.

Every function here builds its engine's condition from the tree `plan.query.parse_query`
returned, through `plan.query.fold`, never from the config text: the only names in it
are the table's columns and the only literals numbers the column's type holds exactly.
The dataframe engines (DuckDB's relational API, Polars, `pyarrow.compute`) get expression
objects, never text; pandas' HDFStore only takes a `where` string, rebuilt like numexpr's.
Queries never contain NaN or negation nodes: `~` was applied when parsing.
"""

import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from outofcore.plan.query import COLUMN_TYPES, Column, Compare, Query, QueryError, fold, to_text

# The comparison functions of the tree's operators: they work on Python numbers, NumPy
# arrays, pandas Series and the expression objects of the dataframe engines alike.
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def _value_text(value: Any, row: str | None = None) -> str:
    if isinstance(value, Column):
        return value.name if row is None else f"{row}[{value.name!r}]"
    return repr(value)  # ints as ints, floats with a '.' or an exponent


# -- numexpr: PyTables' where/read_where and pandas' query -------------------------------


def to_numexpr(query: Query) -> str:
    """The condition for numexpr, PyTables' `where` and pandas' `query`, fully parenthesized."""
    return to_text(query)


def _compared_columns(query: Query) -> tuple[set[str], set[str]]:
    """(columns compared with a number, columns compared with a column)."""

    def compare(c: Compare) -> tuple[set[str], set[str]]:
        if isinstance(c.value, Column):
            return set(), {c.column, c.value.name}
        return {c.column}, set()

    def join(left: tuple[set[str], set[str]], right: tuple[set[str], set[str]]) -> tuple[set[str], set[str]]:
        return left[0] | right[0], left[1] | right[1]

    return fold(query, compare, join, join)


def _nests_two_compounds(query: Query) -> bool:
    """Does some &/| have a compound expression on both sides, as in (A & B) | (C & D)?"""
    if isinstance(query, Compare):
        return False
    if not isinstance(query.left, Compare) and not isinstance(query.right, Compare):
        return True
    return _nests_two_compounds(query.left) or _nests_two_compounds(query.right)


def indexable_columns(query: Query) -> list[str]:
    """The columns PyTables can be trusted to use an index on for this query.

    Only columns compared with numbers, never with another column (PyTables then takes
    the other column for a constant and raises). None at all when some &/| joins two
    compound expressions: PyTables' index planner then combines the parts with the wrong
    operator and silently misses rows (PyTables issue #564, open; pandas warns about it,
    GH#50598), so the query must scan.
    """
    if _nests_two_compounds(query):
        return []
    numbers, columns = _compared_columns(query)
    return sorted(numbers - columns)


# -- Python: the tutorial's loop over rows -----------------------------------------------


def to_python(query: Query, row: str = "row") -> str:
    """A Python expression over `row[column]` with and/or (the tutorial's loop)."""
    return fold(
        query,
        lambda c: f"({row}[{c.column!r}] {c.op} {_value_text(c.value, row)})",
        lambda left, right: f"({left} and {right})",
        lambda left, right: f"({left} or {right})",
    )


def row_filter(query: Query) -> Callable[[Iterable[Any]], list[int]]:
    """`rows -> [row.nrow for row in rows if <condition>]`: the tutorial's Python loop over
    PyTables rows, with the condition written inline as the tutorial does.

    Compiling the text is safe: it is rebuilt from the checked tree, whose only names are
    the known columns and whose only literals are numbers.
    """
    source = f"lambda rows: [row.nrow for row in rows if {to_python(query)}]"
    return eval(compile(source, "<particles.query>", "eval"), {"__builtins__": {}})


# -- whole columns: NumPy arrays, pandas Series ------------------------------------------


def evaluate(query: Query, columns: Mapping[str, Any]) -> Any:
    """The query over whole columns (NumPy arrays, pandas Series): a boolean mask."""

    def compare(c: Compare) -> Any:
        right = columns[c.value.name] if isinstance(c.value, Column) else c.value
        return OPERATORS[c.op](columns[c.column], right)

    return fold(query, compare, operator.and_, operator.or_)


# -- dataframe engines: expression objects built from the tree ----------------------------


def _widened(c: Compare) -> bool:
    """Two columns of different types: every engine compares them as float64, as NumPy and
    numexpr do (exact here: idnumber and float32 values are exact doubles). DuckDB and
    Arrow would otherwise round an int64 to float32 against `pressure`."""
    return isinstance(c.value, Column) and COLUMN_TYPES[c.column] != COLUMN_TYPES[c.value.name]


def _expression(query: Query, column: Callable[[str, bool], Any], constant: Callable[[Any], Any]) -> Any:
    """The query as an engine's expression objects: `column(name, widen)` makes a column
    (cast to float64 when `widen`, as NumPy compares mixed types), `constant(value)` a
    literal; the engine's objects overload the comparison and `&`/`|` operators."""

    def compare(c: Compare) -> Any:
        widen = _widened(c)
        right = column(c.value.name, widen) if isinstance(c.value, Column) else constant(c.value)
        return OPERATORS[c.op](column(c.column, widen), right)

    return fold(query, compare, operator.and_, operator.or_)


def to_duckdb(query: Query) -> Any:
    """A DuckDB expression of the relational API (`relation.filter(expr)`): columns and
    constants as objects, so no text reaches DuckDB's SQL parser."""
    import duckdb

    double = duckdb.sqltype("DOUBLE")

    def column(name: str, widen: bool) -> Any:
        expr = duckdb.ColumnExpression(name)
        return expr.cast(double) if widen else expr

    return _expression(query, column, duckdb.ConstantExpression)


def to_polars(query: Query) -> Any:
    """A Polars expression (`pl.col`), for `LazyFrame.filter` over `scan_parquet`."""
    import polars as pl

    def column(name: str, widen: bool) -> Any:
        return pl.col(name).cast(pl.Float64) if widen else pl.col(name)

    return _expression(query, column, pl.lit)


def to_arrow(query: Query) -> Any:
    """A `pyarrow.compute` expression (`pc.field`), for `pyarrow.dataset` filters."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def column(name: str, widen: bool) -> Any:
        return pc.field(name).cast(pa.float64(), safe=False) if widen else pc.field(name)  # as NumPy

    return _expression(query, column, pc.scalar)


def to_hdfstore(query: Query) -> str:
    """The `where` of `HDFStore.select`: comparisons of data columns with numbers joined
    by & and |, rebuilt from the tree. QueryError for a column compared with a column,
    which HDFStore's `where` does not accept."""

    def compare(c: Compare) -> str:
        if isinstance(c.value, Column):
            raise QueryError(
                f"HDFStore's where cannot compare two columns ({c.column} {c.op} {c.value.name})"
            )
        return f"({c.column} {c.op} {_value_text(c.value)})"

    return fold(query, compare, lambda a, b: f"({a} & {b})", lambda a, b: f"({a} | {b})")
