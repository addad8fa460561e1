"""What a table format is to the particle stage: one `TableFormat` entry per format module.

A format is a file the same particle records are written to (by one or more writers,
each a `setting`: `default` as a newcomer writes it, `tuned` as its documentation
advises) and read back by one or more query engines. Everything else the stage shows
(the timings' rows, the figures' bars and labels, the headline rows, the log's ratios)
is derived from these entries, so a registered format cannot be left out of any of them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from outofcore.plan.query import Query

SETTINGS = ("default", "tuned", "pipeline")  # how a row's method was configured


@dataclass(frozen=True)
class WriteOptions:
    """What the config says about the stores' files (`particles.*`)."""

    query: Query  # its columns are HDFStore's data columns
    parquet_compression: str
    parquet_row_group_rows: int


@dataclass(frozen=True)
class Writer:
    """One way of writing the format, timed as one row of timings.csv."""

    method: str  # timings.csv `method`, e.g. "parquet_write"
    setting: str  # one of SETTINGS
    label: str  # in figures and headlines, e.g. "Parquet (pyarrow)"
    write: Callable[[Path, np.ndarray, WriteOptions], None]
    code: str = ""  # what a user types, shown in the docs and the headline note


@dataclass(frozen=True)
class Engine:
    """One query engine reading the format's file."""

    name: str  # timings.csv `method`, e.g. "duckdb"
    label: str  # short, for bars: "DuckDB"
    legend: str  # for the query-time figure's legend: "DuckDB (Parquet)"
    headline: str  # the headline's method: "DuckDB on Parquet"
    figure: str  # the headline's figure, in words: "DuckDB query"


@dataclass(frozen=True)
class TableFormat:
    """A table format: its file, its writers (the first is the job's output), its engines."""

    name: str  # particles.formats, timings.csv `format`
    file: str  # the sorted rows' output, beside table.h5 (also in outofcore.plan.table_formats)
    title: str  # the format in words: "Parquet"
    writers: tuple[Writer, ...]
    engines: tuple[Engine, ...]
    # (file, query, threads) -> engine name -> a call running the whole query. It checks
    # the file first (refusing what could run code) and leaves out the engines that cannot
    # express the query, logging nothing: the caller names them.
    queries: Callable[[Path, Query, int], dict[str, Callable[[], Any]]]

    @property
    def suffix(self) -> str:
        return Path(self.file).suffix

    @property
    def output(self) -> Writer:
        """The writer of the job's output file: its first."""
        return self.writers[0]

    def writer(self, method: str, setting: str) -> Writer:
        for writer in self.writers:
            if (writer.method, writer.setting) == (method, setting):
                return writer
        raise KeyError(f"{self.name}: no writer {method} ({setting})")
