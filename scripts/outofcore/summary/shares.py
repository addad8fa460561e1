"""The verdict of a job whose questions differ by the share of the rows they return (a
query returning 3 rows, 1 %, 10 %, 50 %): per variant (rows sorted, rows shuffled), the
picks from the smallest share to the largest in one phrase, "A up to 10 %, B above"."""

import math
from collections.abc import Callable

import pandas as pd


def percent(share: float) -> str:
    """A share of the rows as a user reads it: 0.0003 %, 1 %, 50 %."""
    return f"{100 * share:.2g} %"


def by_share(rows: pd.DataFrame) -> pd.Series:
    """The decision rows that are one of a series of shares (a share and a variant)."""
    if "share" not in rows or "variant" not in rows:
        return pd.Series(False, index=rows.index)
    return rows["share"].notna() & (rows["variant"].fillna("").astype(str) != "")


def _names(row: pd.Series) -> tuple[str, ...]:
    """The pick and its ties (among ties no winner): the run's key and its words."""
    ties = [t for t in str(row["ties"]).split("; ") if t]
    return tuple(dict.fromkeys([str(row["method"]), *ties]))


def share_phrase(rows: pd.DataFrame, strong: Callable[[str], str]) -> str:
    """One phrase per variant: the picks from the smallest share to the largest, a run of
    the same pick (and ties) told once: "rows sorted: **A** up to 10 %, **B** above".
    `strong(name)` marks a method's name up."""
    phrases = []
    for variant, same in rows.groupby("variant", sort=False):
        same = same.sort_values("share")
        runs: list[tuple[tuple[str, ...], float, float]] = []  # (names, smallest, largest share)
        for _, row in same.iterrows():
            names, share = _names(row), float(row["share"])
            if runs and runs[-1][0] == names:
                runs[-1] = (names, runs[-1][1], share)
            else:
                runs.append((names, share, share))
        parts = []
        for i, (names, low, high) in enumerate(runs):
            words = " or ".join(strong(n) for n in names) + (" (tied)" if len(names) > 1 else "")
            if len(runs) == 1 and math.isclose(low, high):
                parts.append(f"{words} ({percent(low)} of the rows)")
            elif len(runs) == 1:
                parts.append(f"{words} at every share asked ({percent(low)} to {percent(high)} of the rows)")
            elif i == len(runs) - 1:
                parts.append(f"{words} above")
            else:
                parts.append(f"{words} up to {percent(high)}")
        phrases.append(f"{variant}: " + ", ".join(parts))
    return "; ".join(phrases)
