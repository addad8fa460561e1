"""An on-disk array larger than memory: built block by block, reduced out of core.

The classic recipe "building a huge numpy array using PyTables", made measurable. For
one size and one backend the job (`HugeArrayJob`, `run`):

1. generates the array block by block from its data source (`hugearray_source`: the
   stage's own integers from the config's seed, or any source of `data:`; never the
   whole array in memory) and appends each block to the on-disk store, timing only
   the store's work (appends, close and fsync: the data is on disk when the clock stops);
2. evicts the store from the page cache (``cold_read``), so the reduce reads the disk;
3. computes per-column sum, mean, min and max piece by piece from the store with its
   ``engine`` (`hugearray_engines`): the stage's own reduce on ``threads`` workers,
   each holding one piece at a time, dask.array, or the blosc2 NDArray's own;
4. checks them against the same statistics computed from the source's values before
   they were written (integers in exact integer arithmetic, not floats read back;
   float sums within a bound that holds for any order of additions):
   ``check`` is ``ok`` only if every value matches.

The data and its statistics are in `hugearray_data`; the backends (PyTables EArray,
h5py dataset, numpy.memmap, Zarr v3, blosc2 NDArray), one `Backend` object each, in the
`stores` package. The job goes through its backend for everything that depends on the
store: a store may be one file or a directory of files. No ``tables.Expr`` is used:
re-evaluated after ``set_inputs_range`` it silently returned an empty result in an
earlier version of this stage. Results are checked, not only timed.

Each phase is timed once with `time.perf_counter` (per-phase sums in the log), not with
`timing.measure`: autoranging would write gigabytes several times over. Each job runs
alone (``timing_lock``), and throughputs are GB/s of uncompressed array.
"""

import logging
import math
import resource
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from itertools import pairwise
from pathlib import Path
from typing import Any

import blosc2
import numpy as np
import pandas as pd

from outofcore.core.files import atomic_output, write_csv
from outofcore.core.progress import Progress
from outofcore.core.timing import STABLE_SPREAD, spread_of_parts
from outofcore.data.sources import kept_columns, spec_of
from outofcore.hugearray.data import ColumnStats, checked
from outofcore.hugearray.engines import get_engine
from outofcore.hugearray.source import OWN_DATA, open_blocks
from outofcore.hugearray.stores.backend import Backend
from outofcore.hugearray.stores.layout import Layout, StoreSpec
from outofcore.hugearray.stores.registry import get_backend
from outofcore.hugearray.stores.writeback import Writeback
from outofcore.plan.hugearray_stores import SETTINGS, STORES, TUNABLE_ENGINES, TUNABLE_STORES, setting_of
from outofcore.plan.sizing import array_disk_bytes
from outofcore.plan.units import GB, MiB  # throughputs: GB/s of uncompressed array bytes


class NotEnoughDiskSpace(OSError):
    """The file system cannot hold the array; raised before anything is written."""


QUIET = logging.getLogger("outofcore.hugearray.job")  # no handler: progress goes nowhere


@dataclass(frozen=True)
class HugeArrayJob:
    """One job of the stage: which array, in which store, run how. The fields after
    `path` are the rule's `params` of the same names (`from_snakemake`)."""

    path: Path  # the store: a file or a directory, as its backend says
    backend: str
    size_mb: int
    columns: int
    block_mb: int
    chunk_kb: int
    compression: str  # as configured; `spec.compression` is what the backend applies
    seed: int
    threads: int = 1  # blosc2 threads while writing, reading workers while reducing
    direct_chunks: bool = True
    cold_read: bool = True
    engine: str = "threads"  # computes the statistics: outofcore.hugearray.engines
    zarr_shards: bool = False  # the zarr store: one shard per block
    blosc2_block_kb: int = 256  # the blosc2 store: KiB of a blosc2 block
    data: str = OWN_DATA  # the data source's label
    source: Mapping[str, Any] | None = None  # its spec (`SourceSpec.as_params`); None: the stage's own
    # default / tuned for a store or engine a user configures, pipeline for the workflow's
    # own ("": the backend and engine's first, default or pipeline; see hugearray_stores)
    setting: str = ""
    memory_cap_mb: int | None = None  # the job's processes are capped at this (`memcap`); None: no cap
    naive: bool = False  # also load the store whole under the cap in a child (`naive`)
    cluster: Mapping[str, Any] | None = None  # engine dask_distributed: `dask_cluster.ClusterSpec`

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))  # frozen: set once, as a Path
        own = setting_of(self.backend, self.engine) if self.backend in STORES else "pipeline"
        setting = self.setting or own
        if setting not in SETTINGS or (setting == "pipeline") != (own == "pipeline"):
            raise ValueError(
                f"hugearray.settings: the {self.backend} store with engine {self.engine} runs at "
                f"{'pipeline only' if own == 'pipeline' else 'default or tuned'}, not {setting!r}"
            )
        object.__setattr__(self, "setting", setting)
        kept = kept_columns(spec_of(self.source)) if self.source else None
        if kept:  # a table or a 2-D array keeps its columns (`hugearray.columns`: the others)
            object.__setattr__(self, "columns", kept)

    @classmethod
    def from_snakemake(cls, smk: Any) -> "HugeArrayJob":
        params = {
            f.name: getattr(smk.params, f.name) for f in fields(cls) if f.name not in ("path", "threads")
        }
        return cls(path=Path(smk.output.data), threads=smk.threads, **params)

    @property
    def store(self) -> Backend:
        return get_backend(self.backend)

    @property
    def layout(self) -> Layout:
        return Layout.from_sizes(self.size_mb, self.columns, self.block_mb, self.chunk_kb)

    @property
    def spec(self) -> StoreSpec:
        return self.store.spec(
            self.layout,
            self.compression,
            self.threads,
            self.direct_chunks,
            zarr_shards=self.zarr_shards,
            b2nd_block_kb=self.blosc2_block_kb,
            setting=self.setting if self.backend in TUNABLE_STORES else "pipeline",
            engine_setting=self.setting if self.engine in TUNABLE_ENGINES else "pipeline",
        )


@dataclass
class Measurement:
    """One job's row of the stage's table: the CSV's columns are these fields, in order."""

    backend: str
    engine: str
    size_mb: int
    rows: int
    columns: int
    compression: str
    file_bytes: int  # the store's size on disk (all its files)
    write_seconds: float
    write_gbps: float
    reduce_seconds: float
    reduce_gbps: float
    peak_rss_mb: float
    check: str
    # one pass each: the spread of its quarters, (max - min) / median of their durations
    write_spread: float = math.nan
    reduce_spread: float = math.nan
    spread: float = math.nan  # the larger of the two
    stable: bool = False  # spread <= 0.15
    others_busy: float = math.nan  # share of the cores other processes kept busy during the job
    data: str = OWN_DATA  # the data source the array holds
    host: str = ""  # the node the job ran on
    missing: int = 0  # missing values in the array (NaN in the store), all columns
    setting: str = "pipeline"  # default, tuned (as its docs advise) or pipeline (the workflow's own)
    memory_cap_mb: float = math.nan  # the cap the job ran under (NaN: none)
    cap: str = "none"  # how the cap was enforced (`memcap.Cap.how`)
    needed_mb: float = math.nan  # memory the whole array needed (the naive rows)
    workers: int = 0  # engine dask_distributed: its workers, their nodes, peak RSS, threads (';'-joined)
    worker_nodes: str = ""
    worker_peak_rss_mb: str = ""
    cluster_start_seconds: float = math.nan  # until every worker had joined (not in reduce_seconds)
    worker_threads: str = ""

    @classmethod
    def csv_columns(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def ensure_free_space(path: Path, layout: Layout) -> None:
    """Raise NotEnoughDiskSpace, before any file exists, if the array cannot fit."""
    folder = Path(path).resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    need = array_disk_bytes(layout.nbytes)
    if need > free:
        raise NotEnoughDiskSpace(
            f"not enough free disk space for {path}: the array needs up to {need / MiB:,.0f} MiB "
            f"({layout.nbytes / MiB:,.0f} MiB of data), {free / MiB:,.0f} MiB free in {folder}"
        )


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MiB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MiB if sys.platform == "darwin" else peak / 1024


class Stopwatch:
    """Seconds spent inside `with watch.phase(name):` blocks, summed per phase."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self.laps: dict[str, list[float]] = {}  # every block's duration, per phase

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            lap = time.perf_counter() - started
            self.phases[name] = self.phases.get(name, 0.0) + lap
            self.laps.setdefault(name, []).append(lap)

    @property
    def total(self) -> float:
        return sum(self.phases.values())


def write_array(job: HugeArrayJob, log: Any = QUIET) -> tuple[Stopwatch, ColumnStats]:
    """Generate and write the array; returns (Stopwatch of the write, exact statistics).

    The stopwatch runs only while the store works: creating it, appending, closing and
    the fsync that puts the data on disk; drawing the numbers is not counted. Each
    append also syncs, meanwhile, what the earlier ones wrote (`Writeback`). The store
    is written under a hidden partial name (a file or a directory) renamed when complete.
    """
    store, spec = job.store, job.spec
    blocks, exact = open_blocks(job.seed, spec.layout, job.source, job.block_mb * MiB)
    buffer = np.empty((spec.layout.block_rows, spec.layout.columns))  # reused: no new pages per block
    watch = Stopwatch()
    rows = Progress(log, f"write {job.backend}", total=spec.layout.rows, unit="rows")
    with atomic_output(job.path, directory=store.directory) as tmp, rows:
        with watch.phase("create"):
            writer = store.writer(tmp, spec)
        writeback = Writeback(tmp, store.files, store.directory)  # earlier blocks to disk meanwhile
        try:
            for source, missing in blocks:
                block = buffer[: len(source)]
                np.copyto(block, source)
                if missing is not None:  # a missing integer: NaN in the store
                    block[missing] = np.nan
                exact.add_source(source, missing)
                with watch.phase("append"), writeback.during_append():
                    writer.append(block)
                rows.advance(len(source))
        finally:
            with watch.phase("close"):
                writer.close()
        with watch.phase("fsync"):
            store.sync(tmp)
    return watch, exact


def reduce_array(job: HugeArrayJob, log: Any = QUIET) -> tuple[float, ColumnStats, float]:
    """Per-column statistics computed from the store by the job's engine; returns
    (seconds, stats, spread of the pass's quarters). The stage's own engine (`threads`)
    has `threads` workers each fold the pieces they read into their own statistics,
    merged at the end (exact: the sums are of integers). The rows read so far go to the
    job's log; the time each piece is done is noted (list.append is atomic), so the
    pass's quarters can be compared (NaN for an engine that reports no pieces)."""
    engine = get_engine(job.engine, job.store)
    started = time.perf_counter()
    done: list[float] = []
    what = f"reduce {job.backend} ({job.engine}, {job.setting})"
    rows = Progress(log, what, total=job.layout.rows, unit="rows")

    def advance(count: int) -> None:
        done.append(time.perf_counter())
        rows.advance(count)

    with rows:
        stats = engine(job.store, job.path, job.spec, advance)
    laps = [b - a for a, b in pairwise([started, *sorted(done)])]
    return time.perf_counter() - started, stats, spread_of_parts(laps)


def run(job: HugeArrayJob, log: Any = None) -> tuple[Measurement, ColumnStats, ColumnStats]:
    """One job: write, (evict), reduce, check. Returns the measurement and both statistics."""
    store, spec = job.store, job.spec
    layout = spec.layout
    get_engine(job.engine, store)  # an engine that cannot run on the store stops the job first
    ensure_free_space(job.path, layout)
    blosc2.set_nthreads(job.threads)
    if log:
        log.info("%s", job)
        log.info(
            "layout %s, %d MiB, stored as %s, direct chunks %s",
            layout,
            layout.nbytes // MiB,
            spec.compression,
            spec.direct,
        )
    watch, exact = write_array(job, log or QUIET)
    write_seconds = watch.total
    if log:
        log.info("write phases (s): %s", {name: round(t, 3) for name, t in watch.phases.items()})
    cold = job.cold_read and store.evict(job.path)
    if log:
        log.info("page cache before the reduce: %s", "cold (store evicted)" if cold else "warm")
    reduce_seconds, stats, reduce_spread = reduce_array(job, log or QUIET)
    write_spread = spread_of_parts(watch.laps.get("append", []))
    spread = max(write_spread, reduce_spread) if not math.isnan(write_spread + reduce_spread) else math.nan
    measurement = Measurement(
        backend=job.backend,
        engine=job.engine,
        size_mb=job.size_mb,
        rows=layout.rows,
        columns=job.columns,
        compression=spec.compression,
        file_bytes=store.bytes_on_disk(job.path),
        write_seconds=write_seconds,
        write_gbps=layout.nbytes / write_seconds / GB,
        reduce_seconds=reduce_seconds,
        reduce_gbps=layout.nbytes / reduce_seconds / GB,
        peak_rss_mb=peak_rss_mb(),
        check=stats.verdict(exact),
        write_spread=write_spread,
        reduce_spread=reduce_spread,
        spread=spread,
        stable=bool(spread <= STABLE_SPREAD),
        data=job.data,
        missing=int(exact.missing.sum()),
        setting=job.setting,
    )
    return measurement, stats, exact


class WrongAnswer(RuntimeError):
    """The out-of-core statistics differ from the exact ones: the job fails, nothing is kept."""


def require_exact(measurement: Measurement, path: str | Path) -> None:
    """Raise WrongAnswer unless the reduce matched the exact statistics (check == ok, or
    every column with values matched and the others had none)."""
    if not checked(measurement.check):
        raise WrongAnswer(
            f"{path}: the out-of-core statistics of the {measurement.backend} store "
            f"(engine {measurement.engine}, {measurement.setting}) differ from "
            f"the exact ones (check = {measurement.check}); no measurement is written"
        )


def write_measurement(measurement: Measurement, path: str | Path) -> None:
    write_csv(pd.DataFrame([asdict(measurement)], columns=Measurement.csv_columns()), path)
