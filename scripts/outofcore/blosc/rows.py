"""The blosc sweep's table: one `SweepRow` per point, and the parts of all jobs collected.

Result rows are dataclasses, as in python-blosc2's bench: the CSV's columns are the
fields, in order.
"""

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from outofcore.blosc import filters as blosc_filters
from outofcore.core.timing import Timing, stable_flags
from outofcore.plan.units import GB

MEMCPY = "memcpy"  # method of the memory-bandwidth rows (operation copy/write/read, codec NO_CODEC)
NO_CODEC = "none"
DEFAULT_DATA = "linspace"
# the setting of each method's rows: python-blosc as the tutorial types it (pack_array) and
# as its docs advise for arrays (compress_ptr: no copy); python-blosc2 as typed (blosc2)
# and as its docs advise (compress2, and pack_tensor for the tutorial's pack_array:
# `outofcore.blosc.tuned`); the bandwidths: the workflow's
SETTING = {"pack_array": "default", "compress_ptr": "tuned", "blosc2": "default", "compress2": "tuned",
           "pack_tensor": "tuned", MEMCPY: "pipeline"}  # fmt: skip
FLOAT64 = np.dtype(np.float64)


@dataclass(frozen=True)
class SweepRow:
    """One line of the sweep table: `size` elements of the source's dtype; throughputs
    count uncompressed bytes."""

    data: str  # the data source's label
    method: str
    codec: str
    filters: str  # blosc2's filter pipeline; the other methods: shuffle
    threads: int
    size: int  # elements
    nbytes: int  # uncompressed bytes
    operation: str  # "compress", "decompress", or a memory bandwidth: "copy", "write", "read"
    seconds: float  # median seconds per call
    seconds_min: float
    seconds_max: float
    repeats: int
    compressed_nbytes: int
    ratio: float
    gbps: float  # uncompressed GB (10**9 bytes) per second
    spread: float  # (max - min) / median of the samples
    stable: bool  # spread <= 0.15
    dtype: str = "float64"
    max_error: float = 0.0  # largest absolute error of the round trip (lossy filters only)
    others_busy: float = float("nan")  # share of the cores other processes kept busy meanwhile
    coverage: float = 1.0  # share of the source's values in the array (a file larger than `size`: < 1)
    file_repeats: float = 1.0  # times the array repeats the source (a file smaller than `size`: > 1)
    # default (as a newcomer types it), tuned (as its docs advise), pipeline (the bandwidths)
    setting: str = "default"

    @classmethod
    def of(
        cls,
        method: str,
        codec: str,
        threads: int,
        size: int,
        operation: str,
        timing: Timing,
        compressed: int,
        *,
        data: str = DEFAULT_DATA,
        filters: str = blosc_filters.DEFAULT,
        dtype: np.dtype = FLOAT64,
        max_error: float = 0.0,
        coverage: float = 1.0,
        file_repeats: float = 1.0,
        setting: str = "default",
    ) -> "SweepRow":
        nbytes = dtype.itemsize * size
        return cls(
            data=data,
            method=method,
            codec=codec,
            filters=filters,
            threads=threads,
            size=size,
            nbytes=nbytes,
            operation=operation,
            **timing.columns(),
            compressed_nbytes=compressed,
            ratio=nbytes / compressed,
            gbps=timing.rate(nbytes) / GB,
            dtype=str(dtype),
            max_error=max_error,
            coverage=coverage,
            file_repeats=file_repeats,
            setting=setting,
        )


COLUMNS = [field.name for field in fields(SweepRow)]
# may be NaN (a spread of one sample, an unknown load); the text columns keep "" and "NA"
NUMBER_COLUMNS = [field.name for field in fields(SweepRow) if field.type in (float, "float")]


def sweep_frame(rows: Sequence[SweepRow]) -> pd.DataFrame:
    """The rows as a table with the CSV's columns, in field order."""
    return pd.DataFrame([asdict(row) for row in rows], columns=COLUMNS)


def collect(parts: Sequence[str | Path]) -> pd.DataFrame:
    """The sweep table of all jobs: per bandwidth and thread count one row combining the
    jobs' (median of their medians, extremes of all samples, their samples), then the
    points. A combined row is stable only if every job's was."""
    table = pd.concat([pd.read_csv(path, keep_default_na=False) for path in parts], ignore_index=True)
    for column in NUMBER_COLUMNS:  # an unknown number is written as an empty cell
        table[column] = pd.to_numeric(table[column].replace("", math.nan))
    copies = table[table["method"] == MEMCPY]
    rows = table[table["method"] != MEMCPY]
    key = ["data", "method", "codec", "filters", "threads", "size", "operation"]
    duplicated = rows[rows.duplicated(key, keep=False)]
    if len(duplicated):
        raise ValueError(f"the parts measure some points twice:\n{duplicated[key]}")
    frames = [rows.sort_values(key, kind="stable")]
    combined = []
    for _, same in copies.groupby(["operation", "threads"], sort=False):
        row = same.iloc[[0]].copy()
        row["seconds"] = same["seconds"].median()
        row["seconds_min"] = same["seconds_min"].min()
        row["seconds_max"] = same["seconds_max"].max()
        row["repeats"] = same["repeats"].sum()
        row["gbps"] = row["nbytes"] / row["seconds"] / GB
        row["spread"] = same["spread"].max()
        row["stable"] = stable_flags(same).all()
        row["others_busy"] = same["others_busy"].max()
        combined.append(row)
    frames[:0] = combined
    return pd.concat(frames, ignore_index=True)[COLUMNS]
