"""The particle table's query: a small, safe subset of numexpr syntax.

The query string comes from the config and reaches numexpr (through PyTables and pandas),
which has had code-execution bugs (CVE-2023-39631). It is therefore parsed here with
`ast` and accepted only if it is built from

- comparisons (<, <=, >, >=, ==, !=, chained as in `20 <= pressure < 50`),
- `&`, `|`, `~` over comparisons (parenthesized as in numexpr),
- the table's numeric columns and finite numeric literals (a unary +/- allowed);

anything else (calls, attributes, strings, other names, arithmetic, `and`/`or`/`not`)
raises QueryError. Engines never see the user's text: each gets its condition rebuilt
from the checked tree (`fold`; the translations live in outofcore.particles.engines).

`~` is applied when parsing, by De Morgan's laws and complementing the comparisons
(`~(pressure < 5)` is `pressure >= 5`): exact because the table holds no NaN, and
PyTables' index planner fails on some negations (`~(pressure == 1.0)` raises).

Literals are made exact. numexpr, NumPy and Python disagree on how a literal is compared
with a float32 column (numexpr compares `pressure == 0.1` in float64 but
`pressure == 16777217` in float32; NumPy rounds both to float32; Python compares exactly),
so every literal is replaced by one the column's type represents exactly, with the
comparison adjusted to keep its exact mathematical meaning (`pressure < 0.1` becomes
`pressure <= 0.099999994`). Every engine then gives the same, exact answer.

Only the parser and the tree are here, standard library only: the config check calls
this before any job runs.
"""

import ast
import math
import operator
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, Union

# The numeric columns of the tutorial's Particle table and their storage types.
COLUMN_TYPES = {"energy": "float64", "idnumber": "int64", "pressure": "float32"}
MAX_LENGTH = 1000  # characters; also bounds the nesting depth
MAX_COMPARISONS = 32  # numexpr compiles one program; keep it small
MAX_DEPTH = 64  # nesting of the syntax tree: recursion here and in the engines stays shallow

# Symmetric: numexpr reads -9223372036854775808 as minus a number that overflows int64.
INT64_MIN, INT64_MAX = -(2**63 - 1), 2**63 - 1
FLOAT32_MAX = struct.unpack("<f", struct.pack("<I", 0x7F7FFFFF))[0]

COMPARE_OPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}  # swap sides
COMPLEMENT = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}  # negate


class QueryError(ValueError):
    """The query is not in the accepted subset; the message says what was found."""


@dataclass(frozen=True)
class Compare:
    """`column op value`, where value is an exactly representable literal or a column."""

    column: str
    op: str
    value: Union[int, float, "Column"]


@dataclass(frozen=True)
class Column:
    name: str


@dataclass(frozen=True)
class And:
    left: "Query"
    right: "Query"


@dataclass(frozen=True)
class Or:
    left: "Query"
    right: "Query"


Query = Compare | And | Or
T = TypeVar("T")  # what a translation of the tree builds (a string, an expression...)


# -- parsing -------------------------------------------------------------------------


def parse_query(text: str) -> Query:
    """The checked, exact query tree of `text`; QueryError if it is not accepted."""
    if not isinstance(text, str) or not text.strip():
        raise QueryError("must be a non-empty string")
    if len(text) > MAX_LENGTH:
        raise QueryError(f"longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise QueryError(f"not a valid expression ({error.__class__.__name__})") from None
    if _depth(tree.body) > MAX_DEPTH:
        raise QueryError(f"nested deeper than {MAX_DEPTH} levels")
    query = _condition(tree.body)
    if count_comparisons(query) > MAX_COMPARISONS:
        raise QueryError(f"more than {MAX_COMPARISONS} comparisons")
    return query


def _depth(root: ast.AST) -> int:
    """Depth of the syntax tree, found without recursion (so any depth is measured)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _condition(node: ast.AST) -> Query:
    """A boolean node: comparison, &, |, ~."""
    if isinstance(node, ast.Compare):
        return _comparison(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd | ast.BitOr):
        left, right = _condition(node.left), _condition(node.right)
        return And(left, right) if isinstance(node.op, ast.BitAnd) else Or(left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        return negate(_condition(node.operand))
    raise QueryError(f"expected a comparison or &, |, ~ of comparisons, found {_describe(node)}")


def _comparison(node: ast.Compare) -> Query:
    """`a < b < c` becomes `(a < b) & (b < c)`, as Python means it."""
    ops = []
    for op_node in node.ops:
        if type(op_node) not in COMPARE_OPS:
            raise QueryError(f"comparison {type(op_node).__name__} is not allowed (use < <= > >= == !=)")
        ops.append(COMPARE_OPS[type(op_node)])
    operands = [_operand(node.left), *(_operand(n) for n in node.comparators)]
    parts = [
        _exact_comparison(left, op, right)
        for left, op, right in zip(operands, ops, operands[1:], strict=False)
    ]
    query = parts[0]
    for part in parts[1:]:
        query = And(query, part)
    return query


def _operand(node: ast.AST) -> Column | int | float:
    """A column name or a finite numeric literal, possibly signed."""
    if isinstance(node, ast.Name):
        if node.id in COLUMN_TYPES:
            return Column(node.id)
        if node.id == "name":
            raise QueryError("'name' is a string column; only numeric columns can be compared")
        raise QueryError(f"unknown name {node.id!r} (columns: {', '.join(sorted(COLUMN_TYPES))})")
    sign, signed = 1, node
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Name):
        raise QueryError(f"arithmetic on a column ({ast.unparse(signed)}) is not allowed")
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = sign * node.value
        if isinstance(value, float) and not math.isfinite(value):
            raise QueryError(f"literal {node.value!r} is not finite")
        return value
    raise QueryError(f"expected a column or a number, found {_describe(node)}")


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        return f"{type(node.value).__name__} literal {node.value!r}"
    if isinstance(node, ast.Name):
        return f"the bare name {node.id!r}"
    if isinstance(node, ast.Call):
        return "a function call"
    if isinstance(node, ast.Attribute):
        return "an attribute"
    if isinstance(node, ast.BoolOp | ast.UnaryOp) and isinstance(
        getattr(node, "op", None), ast.And | ast.Or | ast.Not
    ):
        return "'and'/'or'/'not' (use &, |, ~)"
    if isinstance(node, ast.BinOp):
        return f"arithmetic ({type(node.op).__name__})"
    return f"{type(node).__name__}"


def negate(query: Query) -> Query:
    """The complement of `query`, without a negation node (no NaN in the table)."""
    if isinstance(query, Compare):
        return Compare(query.column, COMPLEMENT[query.op], query.value)
    if isinstance(query, And):
        return Or(negate(query.left), negate(query.right))
    return And(negate(query.left), negate(query.right))


# -- exact literals --------------------------------------------------------------------


def _exact_comparison(left: Any, op: str, right: Any) -> Query:
    """`left op right` with a column on the left and an exactly representable value."""
    if not isinstance(left, Column):
        if not isinstance(right, Column):
            raise QueryError(f"comparison of two numbers ({left!r} {op} {right!r}) names no column")
        left, op, right = right, FLIPPED[op], left
    if isinstance(right, Column):
        return Compare(left.name, op, right)
    column, kind = left.name, COLUMN_TYPES[left.name]
    below, above = representable_neighbours(right, kind, column)
    if below == above:
        return Compare(column, op, below)
    # below < right < above, and the column holds nothing strictly between them.
    if op in ("<", "<="):
        return Compare(column, "<=", below)
    if op in (">", ">="):
        return Compare(column, ">=", above)
    if op == "==":  # never true: written with the column so that every engine accepts it
        return And(Compare(column, ">", below), Compare(column, "<", above))
    return Or(Compare(column, "<=", below), Compare(column, ">=", above))


def representable_neighbours(value: int | float, kind: str, column: str) -> tuple[Any, Any]:
    """The largest value of type `kind` <= value and the smallest >= value (equal if exact).

    Python compares ints and floats exactly, so the checks below are exact.
    """
    if kind == "int64":
        if not INT64_MIN <= value <= INT64_MAX:
            raise QueryError(f"literal {value!r} is outside the int64 range of {column}")
        return math.floor(value), math.ceil(value)
    if kind == "float64":
        try:
            near = float(value)  # correctly rounded, also from an int
        except OverflowError:
            raise QueryError(f"literal {value!r} is outside the float64 range of {column}") from None
        step = math.nextafter
    else:  # float32
        if abs(value) > FLOAT32_MAX:
            raise QueryError(f"literal {value!r} is outside the float32 range of {column}")
        near = _to_float32(float(value))
        step = _nextafter32
    if near == value:
        return near, near
    if near < value:
        return near, step(near, math.inf)
    return step(near, -math.inf), near


def _to_float32(value: float) -> float:
    """The float32 nearest to a double (round half to even), as a Python float."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def _nextafter32(value: float, toward: float) -> float:
    """The next float32 after `value` (itself a float32) in the direction of `toward`."""
    if value == 0.0:
        tiny = struct.unpack("<f", struct.pack("<I", 1))[0]
        return tiny if toward > 0 else -tiny
    bits = struct.unpack("<I", struct.pack("<f", value))[0]
    away_from_zero = (toward > value) == (value > 0)
    return struct.unpack("<f", struct.pack("<I", bits + 1 if away_from_zero else bits - 1))[0]


# -- using the tree --------------------------------------------------------------------


def fold(
    query: Query,
    compare: Callable[[Compare], T],
    both: Callable[[T, T], T],
    either: Callable[[T, T], T],
) -> T:
    """The tree rebuilt bottom-up in another form: `compare` translates each comparison,
    `both` and `either` join the translated sides of an & and an |. Every engine's
    translation (outofcore.particles.engines) is one call of this."""
    if isinstance(query, Compare):
        return compare(query)
    join = both if isinstance(query, And) else either
    return join(fold(query.left, compare, both, either), fold(query.right, compare, both, either))


def to_text(query: Query) -> str:
    """The checked query as text: fully parenthesized, the column names and exact
    literals only. The user's spelling (comments, spacing, `~`, inexact literals) is
    gone: this is what numexpr gets and the only form a log, a plot or the report shows.
    Parsing it again gives the same tree."""

    def operand(value: Any) -> str:
        return value.name if isinstance(value, Column) else repr(value)

    return fold(
        query,
        lambda c: f"({c.column} {c.op} {operand(c.value)})",
        lambda left, right: f"({left} & {right})",
        lambda left, right: f"({left} | {right})",
    )


def count_comparisons(query: Query) -> int:
    return fold(query, lambda _: 1, operator.add, operator.add)


def compared_columns(compare: Compare) -> set[str]:
    """The columns one comparison reads."""
    if isinstance(compare.value, Column):
        return {compare.column, compare.value.name}
    return {compare.column}


def columns_of(query: Query) -> list[str]:
    """The columns the query reads, sorted."""
    return sorted(fold(query, compared_columns, operator.or_, operator.or_))
