"""The naive way's row of the huge-array stage: the store loaded whole, under the job's cap.

One job per size (`outofcore.plan.hugearray_stores.naive_backend`) loads its store whole
in a child process after its own out-of-core reduce (`memcap.run_naive`), and writes
the row beside its measurement: engine ``naive``, its peak RSS, the memory it needed
(resident memory before the load + the whole array) and its ``check``: ``ok`` when the
array fitted and its statistics match the exact ones, ``stopped at the cap: ...``
when the cap stopped it. The other jobs write the same table with no row.
"""

import math
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd

from outofcore.core.files import write_csv
from outofcore.hugearray.data import ColumnStats
from outofcore.hugearray.job import GB, HugeArrayJob, Measurement
from outofcore.hugearray.memcap import STOPPED, Cap, NaiveResult, run_naive
from outofcore.hugearray.stores.hdf5_chunks import DATASET


def store_of(job: HugeArrayJob) -> dict:
    """What the child needs to load the job's store (JSON)."""
    return {"backend": job.backend, "path": str(job.path), "dataset": DATASET, "nbytes": job.layout.nbytes}


def naive_check(result: NaiveResult, exact: ColumnStats, cap_mb: float) -> str:
    if result.stopped:
        needed = "unknown" if math.isnan(result.needed_mb) else f"{result.needed_mb:.0f} MiB"
        return f"{STOPPED} ({cap_mb:.0f} MiB, {result.how}): needed {needed}"
    stats = ColumnStats(len(exact.total))
    stats.rows = result.stats["rows"]
    for name in ("total", "low", "high", "missing"):
        getattr(stats, name)[:] = result.stats[name]
    return "ok" if stats.matches(exact) else "mismatch"


def naive_measurement(
    job: HugeArrayJob, measurement: Measurement, exact: ColumnStats, cap: Cap
) -> Measurement:
    """The naive way's row: the job's store (and its size on disk) loaded whole in a child."""
    result = run_naive(store_of(job), job.memory_cap_mb)
    nbytes = measurement.rows * measurement.columns * 8
    return replace(
        measurement,
        engine="naive",
        write_seconds=math.nan,  # the store is the job's: its write is the job's row
        write_gbps=math.nan,
        reduce_seconds=result.seconds,
        reduce_gbps=math.nan if result.stopped else nbytes / result.seconds / GB,
        peak_rss_mb=result.peak_rss_mb,
        check=naive_check(result, exact, cap.mb),
        write_spread=math.nan,
        reduce_spread=math.nan,
        spread=math.nan,
        stable=False,
        cap=result.how,
        needed_mb=result.needed_mb,
        workers=0,  # one process: the child
        worker_nodes="",
        worker_peak_rss_mb="",
        worker_threads="",
        cluster_start_seconds=math.nan,
    )


def stopped_at_cap(check: str) -> bool:
    return str(check).startswith(STOPPED)


def write_naive(measurement: Measurement | None, path: str | Path) -> None:
    """The naive row, or the columns alone for a job that ran none."""
    rows = [asdict(measurement)] if measurement is not None else []
    write_csv(pd.DataFrame(rows, columns=Measurement.csv_columns()), path)
