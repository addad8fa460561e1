"""Two runs side by side: how many points agree, and which disagree most.

What travels between machines is compared always: each headline figure's fraction of
the limit that bounds it (`summary.csv`, both measured in the same run), and ratios
within a run (each point's seconds over the median of the points measured beside it:
the same table, size and operation). Seconds are compared only between runs of one
machine (the same CPU model, cores and memory in both `limits.csv`; a folder without one
is taken as the same machine): another machine is faster or slower throughout.

Reads the timed tables of two results folders (blosc `sweep.csv`, every particle
`timings.csv`, the huge-array `summary.csv`), matches their points by key, and keeps
those measured at n >= 10^4 (elements, rows) and stable in both runs (samples spread at
most 15 %; a table without a `stable` column counts as stable). Two values agree when
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
    beside: tuple[str, ...] = ()  # the points measured beside each other (a ratio's group)
    # key columns a table from before them lacks: its run measured only their empty rows
    added: tuple[str, ...] = ()


TABLES = (
    Table("blosc/sweep.csv", ("method", "codec", "threads", "size", "operation"), "size", ("seconds",),
          ("data", "filters"), ("size", "operation", "threads", "data")),
    Table("particles/*/timings.csv", ("step", "method", "rows"), "rows", ("seconds",),
          ("order", "format", "selectivity"), ("rows", "step", "order", "selectivity"), ("selectivity",)),
    Table("hugearray/summary.csv", ("backend", "size_mb"), "rows", ("write_seconds", "reduce_seconds"),
          ("engine", "data"), ("size_mb", "data")),
)  # fmt: skip
MACHINE = ("cpu_model", "cores", "memory")  # limits.csv rows that say which machine ran

COLUMNS = ["table", "point", "n", "seconds_a", "seconds_b", "relative_difference", "agree"]


def results_folder(folder: Path) -> Path:
    """The results folder itself, or the `results/` of a run's working directory."""
    return folder / "results" if (folder / "results").is_dir() else folder


def read_table(results: Path, table: Table) -> pd.DataFrame:
    """Every file of a table in one frame, each point once: a point two jobs timed (the
    10^6-row particle job also times the row-by-row fill at 10^5 rows, as the 10^5-row
    job does) is the one of the job whose folder names its size, else the first."""
    paths = sorted(results_folder(results).glob(table.pattern))
    if not paths:
        return pd.DataFrame()
    frames = [pd.read_csv(path).assign(_folder=path.parent.name) for path in paths]
    frame = pd.concat(frames, ignore_index=True)
    key = [*table.key, *(c for c in table.optional if c in frame)]
    own = frame["_folder"] == frame[table.n].astype(str) if table.n in frame else False
    frame = frame.assign(_own=own).sort_values("_own", ascending=False, kind="stable")
    frame = frame.drop_duplicates(key).sort_index().drop(columns=["_folder", "_own"])
    frame["stable"] = stable_flags(frame)
    return frame.reset_index(drop=True)


def within_run(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Each value over the median of the points measured beside it in the same run."""
    group = [c for c in table.beside if c in frame]
    frame = frame.copy()
    for value in table.values:
        frame[value] = frame[value] / frame.groupby(group, dropna=False)[value].transform("median")
    return frame


def matched_points(a: Path, b: Path, stable_only: bool = True, ratios: bool = False) -> Iterator[dict]:
    """Every point both runs measured with n >= MIN_N, stable in both (unless not
    `stable_only`); `ratios`: each point's value within its own run (see `within_run`)."""
    for table in TABLES:
        first, second = read_table(a, table), read_table(b, table)
        if first.empty or second.empty:
            continue
        for column in table.added:  # one run without the column: compare the rows it has
            if (column in first) != (column in second):
                first, second = (f[f[column].isna()] if column in f else f for f in (first, second))
        if ratios:
            first, second = within_run(first, table), within_run(second, table)
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


def compare_runs(
    a: str | Path, b: str | Path, stable_only: bool = True, ratios: bool = False
) -> pd.DataFrame:
    """One row per matched point: both medians (or, with `ratios`, both ratios within
    their run, in the seconds columns), their relative difference, whether they agree."""
    frame = pd.DataFrame(list(matched_points(Path(a), Path(b), stable_only, ratios)), columns=COLUMNS[:5])
    frame["relative_difference"] = (frame["seconds_b"] - frame["seconds_a"]).abs() / frame["seconds_a"]
    frame["agree"] = frame["relative_difference"] <= AGREE
    return frame[COLUMNS].sort_values("relative_difference", ascending=False, ignore_index=True)


def machine(folder: str | Path) -> dict[str, str]:
    """The machine a run's limits.csv names (empty without one)."""
    path = results_folder(Path(folder)) / "limits.csv"
    if not path.is_file():
        return {}
    limits = pd.read_csv(path, dtype=str).set_index("name")["value"]
    return {name: str(limits[name]) for name in MACHINE if name in limits}


def fractions(a: str | Path, b: str | Path) -> pd.DataFrame:
    """Each headline figure of both runs: its fraction of the limit in each, and whether
    they agree (the figure's words name its size: runs of one config match)."""
    paths = [results_folder(Path(f)) / "summary.csv" for f in (a, b)]
    if not all(p.is_file() for p in paths):
        return pd.DataFrame(
            columns=["stage", "figure", "fraction_a", "fraction_b", "relative_difference", "agree"]
        )
    first, second = (pd.read_csv(p)[["stage", "figure", "fraction_of_limit"]] for p in paths)
    both = first.merge(second, on=["stage", "figure"], suffixes=("_a", "_b"))
    both = both.rename(columns={"fraction_of_limit_a": "fraction_a", "fraction_of_limit_b": "fraction_b"})
    both["relative_difference"] = (both["fraction_b"] - both["fraction_a"]).abs() / both["fraction_a"]
    both["agree"] = both["relative_difference"] <= AGREE
    return both.sort_values("relative_difference", ascending=False, ignore_index=True)


def _share(frame: pd.DataFrame, what: str) -> str:
    if frame.empty:
        return f"no {what} in both runs"
    agree = frame["agree"]
    return f"{agree.sum()} of {len(frame)} {what} agree within {AGREE:.0%} ({agree.mean():.0%})"


def report(a: str | Path, b: str | Path, worst: int = 10) -> str:
    """The share of agreeing points and the largest disagreements, as text: seconds only
    between runs of one machine, fractions of the limit and ratios within a run always."""
    for folder in (a, b):
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"no results folder {folder}")
    number = lambda x: f"{x:.4g}"  # noqa: E731
    ma, mb = machine(a), machine(b)
    same = not ma or not mb or ma == mb
    lines = []
    if same:
        lines.append(seconds_report(a, b, worst))
    else:
        lines.append(
            f"different machines ({a}: {', '.join(ma.values())}; {b}: {', '.join(mb.values())}): seconds "
            "are not compared (another machine is faster or slower throughout); what travels is:"
        )
    shares = fractions(a, b)
    lines += [f"fractions of the limit: {_share(shares, 'headline figures')}"]
    if len(shares):
        lines.append(shares.head(worst).to_string(index=False, float_format=number))
    ratios = compare_runs(a, b, ratios=True).rename(columns={"seconds_a": "ratio_a", "seconds_b": "ratio_b"})
    lines.append(f"ratios within a run (seconds / the median of the points beside it): "
                 f"{_share(ratios, f'stable points with n >= {MIN_N}')}")  # fmt: skip
    if len(ratios):
        lines.append(ratios.head(worst).to_string(index=False, float_format=number))
    return "\n".join(lines)


def seconds_report(a: str | Path, b: str | Path, worst: int = 10) -> str:
    """The share of points whose medians (seconds) agree and the largest disagreements."""
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
