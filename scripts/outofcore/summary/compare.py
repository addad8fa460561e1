"""Two runs' timings side by side: how many points agree, and which disagree most.

Reads the timed tables of two results folders (blosc `sweep.csv`, every particle
`timings.csv`, the huge-array `summary.csv`), matches their points by key, and keeps
those measured at n >= 10^4 (elements, rows) and stable in both runs (samples spread at
most 15 %; a table without a `stable` column counts as stable). Two medians agree when
they differ by at most 15 % of the first run's.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from outofcore.core.timing import stable_flags

AGREE = 0.15  # relative difference of two medians that still agrees
MIN_N = 10_000  # smaller points time call overheads, not the work


@dataclass(frozen=True)
class Table:
    pattern: str  # glob under the results folder
    key: tuple[str, ...]  # columns that name a point
    n: str  # column of the point's size (elements, rows)
    values: tuple[str, ...]  # median seconds compared
    optional: tuple[str, ...] = ()  # more key columns, where both runs' tables have them


TABLES = (
    Table("blosc/sweep.csv", ("method", "codec", "threads", "size", "operation"), "size", ("seconds",),
          ("data", "filters")),
    Table("particles/*/timings.csv", ("step", "method", "rows"), "rows", ("seconds",), ("order", "format")),
    Table("hugearray/summary.csv", ("backend", "size_mb"), "rows", ("write_seconds", "reduce_seconds"),
          ("engine", "data")),
)  # fmt: skip

COLUMNS = ["table", "point", "n", "seconds_a", "seconds_b", "relative_difference", "agree"]


def results_folder(folder: Path) -> Path:
    """The results folder itself, or the `results/` of a run's working directory."""
    return folder / "results" if (folder / "results").is_dir() else folder


def read_table(results: Path, table: Table) -> pd.DataFrame:
    paths = sorted(results_folder(results).glob(table.pattern))
    if not paths:
        return pd.DataFrame()
    frame = pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)
    frame["stable"] = stable_flags(frame)
    return frame


def matched_points(a: Path, b: Path, stable_only: bool = True) -> Iterator[dict]:
    """Every point both runs measured with n >= MIN_N, stable in both (unless not `stable_only`)."""
    for table in TABLES:
        first, second = read_table(a, table), read_table(b, table)
        if first.empty or second.empty:
            continue
        key = [*table.key, *(c for c in table.optional if c in first and c in second)]
        both = first.merge(second, on=key, suffixes=("_a", "_b"))
        n = table.n if table.n in key else f"{table.n}_a"  # a key column keeps its name
        both = both[both[n] >= MIN_N]
        if stable_only:
            both = both[both["stable_a"] & both["stable_b"]]
        for row in both.to_dict("records"):
            point = ", ".join(f"{k}={row[k]}" for k in key)
            for value in table.values:
                yield {
                    "table": table.pattern,
                    "point": point if len(table.values) == 1 else f"{point}, {value}",
                    "n": row[n],
                    "seconds_a": row[f"{value}_a"],
                    "seconds_b": row[f"{value}_b"],
                }


def compare_runs(a: str | Path, b: str | Path, stable_only: bool = True) -> pd.DataFrame:
    """One row per matched point: both medians, their relative difference, whether they agree."""
    frame = pd.DataFrame(list(matched_points(Path(a), Path(b), stable_only)), columns=COLUMNS[:5])
    frame["relative_difference"] = (frame["seconds_b"] - frame["seconds_a"]).abs() / frame["seconds_a"]
    frame["agree"] = frame["relative_difference"] <= AGREE
    return frame[COLUMNS].sort_values("relative_difference", ascending=False, ignore_index=True)


def report(a: str | Path, b: str | Path, worst: int = 10) -> str:
    """The share of agreeing points and the largest disagreements, as text."""
    for folder in (a, b):
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"no results folder {folder}")
    every = compare_runs(a, b, stable_only=False)
    everything = (
        f"all points with n >= {MIN_N}, stable or not: {every['agree'].sum()} of {len(every)} agree"
        + (f" ({every['agree'].mean():.0%})" if len(every) else "")
    )
    frame = compare_runs(a, b)
    if frame.empty:
        return f"{a} and {b} share no stable point with n >= {MIN_N}\n{everything}"
    share = frame["agree"].mean()
    lines = [
        f"{frame['agree'].sum()} of {len(frame)} stable points with n >= {MIN_N} agree within "
        f"{AGREE:.0%} ({share:.0%}); {a} -> {b}",
        everything,
        f"largest disagreements (relative to {a}):",
        frame.head(worst).to_string(index=False, float_format=lambda x: f"{x:.4g}"),
    ]
    return "\n".join(lines)
