"""One line of timings.csv per fill or query method timed (`TimingRow`), how each of
PyTables' methods is set, and the table they make."""

from dataclasses import asdict, dataclass, fields
from typing import Any

import pandas as pd

from outofcore.core.timing import Timing


@dataclass(frozen=True)
class TimingRow:
    """One line of timings.csv: a fill or a query method timed at one table size."""

    step: str  # "fill" or "query"
    method: str
    rows: int  # rows written, or in the table queried
    matches: int | None  # rows the query found (query methods only)
    seconds: float  # median seconds per call
    seconds_min: float
    seconds_max: float
    repeats: int
    rows_per_s: float
    spread: float  # (max - min) / median of the samples
    stable: bool  # spread <= 0.15
    others_busy: float  # share of the cores other processes kept busy during the job (NaN: unknown)
    order: str = "sorted"  # of the rows: sorted by the queried column (as generated) or shuffled
    format: str = "pytables"  # the store: pytables, parquet, hdfstore (numpy: none, in memory)
    file_bytes: int | None = None  # size of the file written or queried
    threads: int | None = None  # threads the method's engine ran on, if it can use several
    host: str = ""  # the node the job ran on (set by the job)
    setting: str = "default"  # default (as shipped), tuned (as its docs advise), pipeline (this workflow's)
    selectivity: float | None = None  # the share of the rows a `particles.queries` question asks (else empty)
    condition: str = ""  # the query's condition in numexpr syntax (query rows)

    @classmethod
    def of(
        cls, step: str, method: str, rows: int, timing: Timing, matches: int | None = None, **where: Any
    ) -> "TimingRow":
        """`where`: order, format, file_bytes, threads, setting (PyTables' methods: from
        METHOD_SETTINGS)."""
        where.setdefault("setting", METHOD_SETTINGS.get(method, "default"))
        return cls(
            step=step,
            method=method,
            rows=rows,
            matches=matches,
            **timing.columns(),
            rows_per_s=rows / timing.seconds,
            others_busy=float("nan"),  # the job fills it in for the whole table
            **where,
        )


# How PyTables' own methods are set (docs/tuning.md says why): the rest run as shipped.
METHOD_SETTINGS = {
    "chunks": "pipeline",  # this workflow's direct chunk writes
    "block": "tuned",  # table.append in blocks, expectedrows (PyTables' optimization guide)
    # PyTables' documented in-kernel query, run with this workflow's measured scan settings
    # (numexpr on one thread, where PyTables advises the cores; no chunk cache)
    "where": "pipeline",
    "read_where": "pipeline",
    "indexed": "tuned",  # a completely sorted index: PyTables' "Indexed searches" (build timed apart)
    "indexed_read_where": "tuned",  # read_where on the indexed copy (the shares of the rows)
    "read_numpy": "pipeline",  # table.read() with the chunk cache off, then a NumPy mask (the shares)
    "pandas_bytes": "pipeline",  # this workflow's frame: names left as Arrow bytes, no str objects
}


TIMINGS_COLUMNS = [field.name for field in fields(TimingRow)]


def with_settings(timings: pd.DataFrame) -> pd.DataFrame:
    """A timings table with its `setting` column: tables written before it had one get
    the setting each method had then (the stores' writes were their library defaults,
    dictionary encoding on)."""
    if "setting" in timings:
        return timings
    engines = timings["format"].isin(["parquet", "hdfstore"]) & (timings["step"] == "query")
    settings = timings["method"].map(METHOD_SETTINGS).fillna("default")
    return timings.assign(setting=settings.where(~engines, "tuned"))


def configured(timings: pd.DataFrame) -> pd.DataFrame:
    """The rows of the fills and of the configured query: without the shares of the rows
    (`particles.queries`), which ask the same methods other questions."""
    if "selectivity" not in timings:
        return timings
    return timings[timings["selectivity"].isna()]


def timings_frame(rows: list[TimingRow]) -> pd.DataFrame:
    """The rows as timings.csv holds them: `matches` empty where it does not apply."""
    frame = pd.DataFrame([asdict(row) for row in rows], columns=TIMINGS_COLUMNS)
    for column in ("matches", "file_bytes", "threads"):
        frame[column] = frame[column].astype("Int64")
    frame["selectivity"] = frame["selectivity"].astype(float)  # empty: the configured query, or no query
    return frame
