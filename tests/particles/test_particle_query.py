"""The particle query parser: the safe subset is accepted, everything else rejected, and
literals are rewritten so that every engine compares exactly."""

import struct
import subprocess
import sys

import numpy as np
import pytest

from outofcore.particles.engines import evaluate, indexable_columns, row_filter, to_numexpr, to_python
from outofcore.plan.query import QueryError, columns_of, parse_query, representable_neighbours


def f32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("(20 <= pressure) & (pressure < 50)", "((pressure >= 20.0) & (pressure < 50.0))"),
        ("20 <= pressure < 50", "((pressure >= 20.0) & (pressure < 50.0))"),
        ("idnumber == 85899345920", "(idnumber == 85899345920)"),
        ("~(energy > 1e6) | (pressure != -3)", "((energy <= 1000000.0) | (pressure != -3.0))"),
        ("~((pressure == 1) | ~(idnumber < 5))", "((pressure != 1.0) & (idnumber < 5))"),
        ("~~(pressure < 2)", "(pressure < 2.0)"),
        ("pressure < energy", "(pressure < energy)"),
        ("  -(-2) < idnumber ", "(idnumber > 2)"),
        ("idnumber > 2.5", "(idnumber >= 3)"),
        ("idnumber <= -2.5", "(idnumber <= -3)"),
    ],
)
def test_accepted_queries_are_rebuilt(text, expected):
    assert to_numexpr(parse_query(text)) == expected


def test_the_tutorial_query_for_python_and_columns():
    query = parse_query("(20 <= pressure) & (pressure < 50)")
    assert to_python(query) == "((row['pressure'] >= 20.0) and (row['pressure'] < 50.0))"
    assert columns_of(query) == ["pressure"]
    assert columns_of(parse_query("(pressure < energy) | (idnumber > 1)")) == [
        "energy",
        "idnumber",
        "pressure",
    ]


def test_indexable_columns_leave_out_column_comparisons():
    """PyTables' index planner takes the other column for a constant: never index it."""
    assert indexable_columns(parse_query("(pressure < 3) & (idnumber > 1)")) == ["idnumber", "pressure"]
    assert indexable_columns(parse_query("(pressure < energy) | (pressure > 2) | (idnumber > 1)")) == [
        "idnumber"
    ]
    assert indexable_columns(parse_query("energy < energy")) == []


def test_no_index_where_pytables_misses_rows():
    """(A & B) | (C & D) over indexed columns loses rows in PyTables (issue #564)."""
    assert (
        indexable_columns(
            parse_query("((pressure < 3) & (idnumber > 1)) | ((pressure > 9) & (idnumber < 5))")
        )
        == []
    )
    # == 0.1 becomes a range of one column: PyTables plans that correctly
    assert indexable_columns(parse_query("(pressure == 0.1) | (pressure > 9)")) == ["pressure"]
    assert indexable_columns(parse_query("(pressure == 0.1) | (pressure == 0.2)")) == []  # cautious
    assert indexable_columns(parse_query("(pressure > 9) | (pressure < 3) & (idnumber < 5)")) == [
        "idnumber",
        "pressure",
    ]


# one query per class the issue names, and the other things numexpr would accept
REJECTED = {
    "call": ("__import__('os').system('true')", "function call"),
    "call in a comparison": ("pressure < abs(1)", "function call"),
    "attribute": ("pressure.real < 1", "attribute"),
    "attribute alone": ("os.system", "attribute"),
    "string literal": ("pressure == 'a'", "str literal"),
    "bytes literal": ("pressure == b'a'", "bytes literal"),
    "string column": ("name == 1", "string column"),
    "unknown name": ("temperature > 1", "unknown name 'temperature'"),
    "builtin name": ("pressure < sum", "unknown name 'sum'"),
    "bare column": ("pressure", "bare name"),
    "bare number": ("1", "int literal"),
    "arithmetic": ("pressure * 2 < 3", "arithmetic"),
    "power literal": ("energy < 2**60", "arithmetic"),
    "negated column": ("-pressure < 3", "arithmetic on a column (-pressure)"),
    "signed column": ("+pressure < 3", "arithmetic on a column (+pressure)"),
    "and": ("(pressure < 1) and (energy > 2)", "'and'/'or'/'not'"),
    "not": ("not pressure < 1", "'and'/'or'/'not'"),
    "in": ("pressure in (1, 2)", "In is not allowed"),
    "is": ("pressure is 1", "Is is not allowed"),
    "bool literal": ("pressure < True", "bool literal"),
    "complex literal": ("pressure < 1j", "complex literal"),
    "infinite literal": ("pressure < 1e999", "not finite"),
    "two numbers": ("1 < 2", "names no column"),
    "int64 overflow": ("idnumber < 9223372036854775808", "int64 range"),
    "float32 overflow": ("pressure < 1e39", "float32 range"),
    "float64 overflow": (f"energy < {10**400}", "float64 range"),
    "subscript": ("pressure[0] < 1", "Subscript"),
    "lambda": ("lambda: 1", "Lambda"),
    "walrus": ("(x := 1) < pressure", "NamedExpr"),
    "two statements": ("pressure < 1; import os", "not a valid expression"),
    "syntax error": ("pressure <", "not a valid expression"),
    "null byte": ("pressure < 1\0", "not a valid expression"),
    "empty": ("   ", "non-empty"),
    "not a string": (3, "non-empty"),
    "too long": ("pressure < 1" + " " * 1000, "longer than"),
    "too deep": ("~" * 100 + "(pressure < 1)", "nested deeper"),
    "too many comparisons": (" | ".join(["(pressure < 1)"] * 33), "more than 32"),
}


@pytest.mark.parametrize("text,reason", REJECTED.values(), ids=REJECTED.keys())
def test_rejected_queries(text, reason):
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    assert reason in str(caught.value)


def test_parser_is_light_enough_for_the_config_check():
    """configcheck imports it before any job: no numpy, pandas, tables or numexpr."""
    code = (
        "import sys, outofcore.plan.query; "
        "print([m for m in ('numpy', 'pandas', 'tables', 'numexpr') if m in sys.modules])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="scripts"
    )
    assert proc.stdout.strip() == "[]"


# -- exact literals --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,kind,expected",
    [
        (20, "float32", (20.0, 20.0)),
        (0.1, "float32", None),  # float32 neighbours straddle it
        (16777217, "float32", (16777216.0, 16777218.0)),
        (2**53 + 1, "float64", (2.0**53, 2.0**53 + 2)),
        (2.5, "int64", (2, 3)),
        (-2.5, "int64", (-3, -2)),
        (7, "int64", (7, 7)),
    ],
)
def test_representable_neighbours(value, kind, expected):
    below, above = representable_neighbours(value, kind, "c")
    assert below <= value <= above
    if expected is None:
        assert f32(below) == below and f32(above) == above and below < 0.1 < above
        assert np.nextafter(np.float32(below), np.float32(1)) == np.float32(above)
    else:
        assert (below, above) == expected


def test_float32_literal_is_compared_exactly():
    """numexpr and NumPy cast literals against float32 differently; the rewrite makes
    both give the exact answer."""
    import numexpr

    pressure = np.array([0.1, 16777216, 16777218], dtype=np.float32)
    assert numexpr.evaluate("pressure == 16777217").tolist() == [False, True, False]  # float32 compare
    assert (pressure == 0.1).tolist() == [True, False, False]  # NumPy: float32 compare
    for text, exact in [
        ("pressure == 16777217", [False, False, False]),
        ("pressure == 0.1", [False, False, False]),  # float32(0.1) is not 0.1
        ("pressure > 0.1", [True, True, True]),  # float32(0.1) = 0.100000001490116...
        ("pressure < 16777217", [True, True, False]),
        ("pressure != 16777217", [True, True, True]),
    ]:
        query = parse_query(text)
        assert numexpr.evaluate(to_numexpr(query), {"pressure": pressure}).tolist() == exact, text
        assert evaluate(query, {"pressure": pressure}).tolist() == exact, text

        class Row(dict):
            nrow = 0

        rows = [Row(pressure=float(p)) for p in pressure]
        for i, row in enumerate(rows):
            row.nrow = i
        assert row_filter(query)(rows) == [i for i, hit in enumerate(exact) if hit], text
