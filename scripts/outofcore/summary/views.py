"""The columns a reader needs first, for the HTML pages of the summary and the decision.

The CSVs keep every column with raw values; their HTML pages show these views, every
column still one click away behind "all N columns" (`outofcore.core.report_tables`). A
figure above its bound is never hidden: its flag is in both views.
"""

import pandas as pd

from outofcore.core.report_tables import significant


def _with_unit(values: pd.Series, units: pd.Series) -> list[str]:
    return [f"{significant(float(v))} {u}".strip() for v, u in zip(values, units, strict=True)]


def _of_limit(fractions: pd.Series, limits: pd.Series, bounds: pd.Series) -> list[str]:
    """'0.711 of <limit>', '(a reference)' when the limit does not bound the figure."""
    return [
        f"{significant(float(f))} of {lim}" + (" (a reference)" if b == "reference" else "")
        for f, lim, b in zip(fractions, limits, bounds, strict=True)
    ]


def notes(flags: pd.Series) -> list[str]:
    """A row's flags, short: what makes a figure doubtful, the long words in the CSV."""
    short = []
    for text in flags.fillna("").astype(str):
        parts = [p.split(": the bound is wrong")[0] for p in text.split("; ") if "ABOVE ITS BOUND" in p]
        if "shared machine" in text:
            parts.append("measured on a busy machine")
        if "another node" in text:
            parts.append("another node's limits")
        short.append("; ".join(parts))
    return short


def decision_view(decision: pd.DataFrame) -> pd.DataFrame:
    """Per row: the job and question, data, the pick and the call to type, its value
    (the unit in the header when every row has the same), spread, ties, size, its
    fraction of the named limit, speed over the tutorial's way, and short notes (a
    figure above its bound always)."""
    units = set(decision["unit"])
    one_unit = len(units) == 1
    value = decision["value"] if one_unit else _with_unit(decision["value"], decision["unit"])
    return pd.DataFrame(
        {
            "question": [
                f"{j}: {q}" if q != j else j for j, q in decision[["job", "question"]].itertuples(index=False)
            ],
            "data": decision["data"],
            "pick": decision["pick"],
            "how": decision["how"],
            f"value [{units.pop()}]" if one_unit else "value": value,
            "spread": decision["spread"],
            "ties": decision["ties"],
            "size": decision["size"],
            "of the limit": _of_limit(decision["fraction_of_limit"], decision["limit"], decision["bound"]),
            "vs tutorial (x)": decision["vs_tutorial"],
            "notes": notes(decision["flags"]),
        }
    )


def summary_view(summary: pd.DataFrame) -> pd.DataFrame:
    """Per figure: its stage and words, value with unit, the limit, the fraction of it,
    whether the limit bounds it, spread, others' load and flags."""
    view = summary[["stage", "figure"]].copy()
    view["value"] = _with_unit(summary["value"], summary["unit"])
    for column in ("limit", "fraction_of_limit", "bound", "spread", "others_busy", "flags"):
        view[column] = summary[column]
    return view
