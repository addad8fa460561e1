"""The headline contract: what a stage publishes for the summary and the "what to use" page.

The gathering job of each stage writes `results/<stage>/headline.csv`, one `Headline`
per figure a reader should see first: the best methods of the stage and the tutorial's
way, each with the limit that bounds it. The summary only joins these files with
`limits.csv`; a new stage adds its own headline file, not code in the summary.
"""

import math
from collections.abc import Iterable
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path

import pandas as pd

from outofcore.core.files import write_csv


@dataclass(frozen=True)
class Headline:
    """One headline figure of a stage.

    `limit` names a row of `limits.csv` (the summary looks its value up), or a bound the
    stage measured itself in the same job, whose value is then `limit_value`. The limit
    is chosen by what the figure does: in memory on T threads, `read_{T}t` for what
    reads the uncompressed bytes (compression), `write_{T}t` for what writes them
    (decompression); on disk, `durable_write` for what fsyncs and `page_cache_write` for
    what does not; a read of compressed data on disk gives `compression_ratio` (the
    file's uncompressed / stored bytes), and the summary then bounds it by
    min(read rate x ratio, copy_{T}t). `bound` is "reference" for a limit that is only
    a comparison, not a ceiling.
    """

    stage: str
    job: str  # the user's job it answers, e.g. "store a table"
    method: str
    figure: str  # what was measured, in words
    value: float
    unit: str
    limit: str
    threads: int
    limit_value: float = math.nan
    tutorial: bool = False  # the tutorial's own way of doing this job
    note: str = ""
    bound: str = "yes"  # "yes": the figure cannot exceed the limit; "reference": a comparison
    compression_ratio: float = math.nan  # uncompressed / stored bytes of data read from disk
    spread: float = math.nan  # (max - min) / median of the figure's samples
    others_busy: float = math.nan  # share of the cores other processes kept busy meanwhile
    host: str = ""  # the node that measured it ("" = where the limits job ran)
    # workers on other nodes computed it: "node:threads;..." (the summary sums their limits)
    nodes: str = ""
    # What the "what to use" decision needs (see outofcore.summary.decision):
    question: str = ""  # the user's question it answers, e.g. "selective query, rows sorted" ("" = job)
    data: str = ""  # the data it was measured on (a data source, "particle table, 10^6 rows")
    how: str = ""  # the call a user types
    recipe: str = ""  # docs/recipes/<recipe>.py: the whole way, with the public API
    value_low: float = math.nan  # the figure from the slowest sample
    value_high: float = math.nan  # the figure from the fastest sample
    file_bytes: float = math.nan  # bytes stored (a file's size)
    rank_by: str = "value"  # what its question ranks by: value (higher is better) or compression_ratio
    ties: str = ""  # methods the stage found tied with it (samples overlapping), "; "-joined
    decide: bool = True  # a candidate of the decision (False: a figure for the summary only)
    # default (as a newcomer types it), tuned (as its documentation advises) or pipeline
    # (this workflow's own code): the decision chooses among tuned and pipeline rows
    setting: str = "pipeline"


SETTINGS = ("default", "tuned", "pipeline")


COLUMNS = [field.name for field in fields(Headline)]
TEXT = ("note", "bound", "host", "nodes", "question", "data", "how", "recipe", "setting", "rank_by", "ties")
TEXT_DEFAULTS = {"bound": "yes", "rank_by": "value", "setting": "pipeline"}  # an empty cell reads as these


def host_of(item) -> str:
    """The node a row (a headline, a job's measurement) names ("" when it names none)."""
    host = getattr(item, "host", "")
    return "" if pd.isna(host) else str(host)


def headline_frame(rows: Iterable[Headline]) -> pd.DataFrame:
    return pd.DataFrame([asdict(row) for row in rows], columns=COLUMNS)


def write_headline(rows: Iterable[Headline], path: str | Path) -> None:
    write_csv(headline_frame(rows), path)


def read_headlines(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Every stage's headline rows, in the order of `paths`."""
    frames = [
        pd.read_csv(path, dtype={c: object for c in TEXT}).fillna({c: TEXT_DEFAULTS.get(c, "") for c in TEXT})
        for path in paths
    ]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    for field in fields(Headline):  # files written before a field existed: its default
        if field.name not in table.columns and field.default is not MISSING:
            table[field.name] = field.default
    missing = set(COLUMNS) - set(table.columns)
    if missing:
        raise ValueError(f"headline files lack columns {sorted(missing)}")
    unknown = sorted(set(table["setting"].fillna("")) - set(SETTINGS))
    if unknown:
        raise ValueError(f"headline files: setting {unknown} is none of {', '.join(SETTINGS)}")
    return table[COLUMNS]
