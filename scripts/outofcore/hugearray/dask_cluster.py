"""Engine ``dask_distributed``: one array reduced by dask.distributed workers, on this
machine (``kind: local``, a `LocalCluster`) or on SLURM nodes (``kind: slurm``,
dask-jobqueue's `SLURMCluster`: one SLURM job per worker).

One task per block carries only (backend, path, spec, start, stop): the worker opens the
store itself (once per process, `_open`), reads the block's pieces with the store's own
`PieceReader` (its fetch under a per-process lock: HDF5 is never entered from two
threads; one buffer per thread) and returns the block's `ColumnStats`. The client merges
them, exactly as the `threads` engine merges its workers'. Nothing of the store crosses
the network but the statistics, so nothing unpicklable (an h5py object) is shipped: the
store must be at the same path on every worker's node (a shared file system).

A worker lost mid-reduce: its blocks are computed again on the others (each block's
statistics come from one task, merged once), or, after the scheduler's allowed failures,
the reduce fails with `KilledWorker`: a retried exact answer or a clear failure.

Why SLURMCluster rather than SLURMRunner in one gang-scheduled job: the rule stays one
ordinary job (no MPI launch, the same rule on a laptop and on SLURM), workers join as
the queue gives them nodes, and the job process (scheduler and client) is where the
reduce is timed. The cost is the wait for the worker jobs, reported apart
(`cluster_start_seconds`), and sbatch must be callable from the job's node.

Worker settings: dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which
turns off glibc's adaptive mmap threshold, so every block-sized buffer is mapped and
unmapped again: zarr reads ran 2-3x slower in workers. It is unset here. Workers get
HDF5_USE_FILE_LOCKING=FALSE: on shared file systems HDF5's lock fails (errno 37), and the
store is complete and read-only while it is reduced.
"""

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from distributed.diagnostics.plugin import WorkerPlugin

from outofcore.hugearray.data import ColumnStats
from outofcore.hugearray.memcap import vm_status
from outofcore.hugearray.node_probe import NodeProbe, probe_nodes, worker_node
from outofcore.hugearray.stores.backend import Backend
from outofcore.hugearray.stores.layout import StoreSpec
from outofcore.hugearray.stores.reading import PieceReader
from outofcore.plan.sizing import MiB

WORKER_ENV = {"HDF5_USE_FILE_LOCKING": "FALSE"}
TASK_RETRIES = 2  # a task that failed (not a lost worker: that one is rescheduled anyway)


@dataclass(frozen=True)
class ClusterSpec:
    """`hugearray.cluster` of the config."""

    kind: str = "local"  # local | slurm
    workers: int = 2
    threads_per_worker: int = 1
    memory_per_worker_mb: int = 1024
    start_timeout_s: int = 120  # for the workers to join (SLURM: the queue's wait included)
    interface: str | None = None  # network interface of scheduler and workers (ib0, eth0)
    local_directory: str | None = None  # worker scratch, node-local ($TMPDIR)
    walltime: str = "00:30:00"  # of each SLURM worker job
    queue: str | None = None  # SLURM partition
    account: str | None = None
    job_extra_directives: tuple[str, ...] = field(default_factory=tuple)  # more #SBATCH lines

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> "ClusterSpec":
        config = dict(config or {})
        config["job_extra_directives"] = tuple(config.get("job_extra_directives") or ())
        return cls(**config)


# --- in the workers --------------------------------------------------------------------


_OPEN: dict[tuple[str, str, StoreSpec], tuple[PieceReader, threading.Lock]] = {}
_OPENING = threading.Lock()
_BUFFERS = threading.local()


def _open(backend: str, path: str, spec: StoreSpec) -> tuple[PieceReader, threading.Lock]:
    """The store's reader in this worker process, opened once (kept for the process's life)."""
    from outofcore.hugearray.stores.registry import get_backend

    key = (backend, path, spec)
    with _OPENING:
        if key not in _OPEN:
            _OPEN[key] = (get_backend(backend).reader(Path(path), spec), threading.Lock())
        return _OPEN[key]


def pieces_in(reader: PieceReader, start: int, stop: int) -> list[Any]:
    """The reader's pieces holding rows [start, stop): chunk starts (a range), or the
    block itself for a reader of blocks (a block is a whole number of chunks)."""
    pieces = reader.pieces
    if isinstance(pieces, range):
        first = -(-(start - pieces.start) // pieces.step)
        last = -(-(stop - pieces.start) // pieces.step)
        return list(pieces[max(0, first) : max(0, last)])
    return [(start, stop)]


def reduce_span(backend: str, path: str, spec: StoreSpec, start: int, stop: int) -> ColumnStats:
    """A task: the statistics of rows [start, stop) of the store, read in this worker."""
    reader, lock = _open(backend, path, spec)
    buffer = getattr(_BUFFERS, "buffer", None)
    if buffer is None or buffer.shape != reader.shape:
        buffer = _BUFFERS.buffer = np.empty(reader.shape)
    stats = ColumnStats(spec.layout.columns)
    for piece in pieces_in(reader, start, stop):
        with lock:
            fetched = reader.fetch(piece, buffer)
        stats.add_block(reader.finish(piece, fetched, buffer))
    return stats


def prepare_worker(cap_mb: int | None) -> Any:
    """Load the stores' libraries (not on the reduce's clock), then cap this worker as the
    job is capped (`memcap.apply_cap`); returns the `Cap`."""
    from outofcore.hugearray.memcap import apply_cap
    from outofcore.hugearray.stores import registry  # noqa: F401

    return apply_cap(cap_mb)


class WorkerSetup(WorkerPlugin):
    """A worker plugin (`Client.register_plugin`): every worker, one the nanny restarted
    too, is prepared (`prepare_worker`) and exits at once once it has closed.

    Why the exit: the worker process, closed, then spends 0.5-2.5 s in the interpreter's
    teardown of its modules (h5py, PyTables, zarr, blosc2, distributed); under load that
    passed the nanny's 4 s wait (0.8 x its 5 s close timeout), which then killed it
    ("Worker process still alive after 4.0 seconds, killing"). A worker that closed
    normally has released its scratch directory and holds only read-only stores: it
    skips the teardown (os._exit(0)); one that did not close keeps Python's own exit."""

    name = "outofcore-hugearray-worker"
    idempotent = True

    def __init__(self, cap_mb: int | None) -> None:
        self.cap_mb = cap_mb

    def setup(self, worker: Any) -> None:
        import atexit

        worker.outofcore_cap = prepare_worker(self.cap_mb)
        atexit.register(exit_if_closed, worker)  # last registered: runs first


def exit_if_closed(worker: Any) -> None:
    from distributed.core import Status

    if worker.status == Status.closed:
        import logging

        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def worker_cap(dask_worker: Any) -> str:
    """How the worker's memory is capped (`Cap.how`), set by `WorkerSetup`."""
    return dask_worker.outofcore_cap.how


def worker_report() -> dict[str, Any]:
    """This worker's node (SLURM's name for it, else the host name) and peak RSS (VmHWM)."""
    return {"host": worker_node(), "peak_rss_mb": vm_status().get("VmHWM", 0) / MiB}


# --- in the job ------------------------------------------------------------------------


@dataclass
class Workers:
    """What the job's row records about the cluster."""

    start_seconds: float
    count: int = 0
    nodes: str = ""  # each worker's node, ';'-separated, in worker order
    peak_rss_mb: str = ""  # each worker's peak RSS, same order
    threads: str = ""  # each worker's threads, same order
    caps: list[str] = field(default_factory=list)
    node_limits: Any = None  # limits measured on the worker nodes (`node_probe`), a DataFrame


def worker_settings() -> dict[str, Any]:
    """dask config for the workers this process starts (see the module)."""
    return {
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        **{f"distributed.nanny.environ.{k}": v for k, v in WORKER_ENV.items()},
    }


def make_cluster(spec: ClusterSpec, scripts: Path) -> Any:
    """A LocalCluster, or a SLURMCluster whose jobs run `spec.workers` workers."""
    if spec.kind == "local":
        from distributed import LocalCluster

        return LocalCluster(n_workers=spec.workers, threads_per_worker=spec.threads_per_worker,
                            processes=True, memory_limit=spec.memory_per_worker_mb * MiB,
                            local_directory=spec.local_directory, dashboard_address=None,
                            host="127.0.0.1" if spec.interface is None else None,
                            interface=spec.interface)  # fmt: skip
    if spec.kind == "slurm":
        from dask_jobqueue import SLURMCluster

        prologue = [f"export {k}={v}" for k, v in WORKER_ENV.items()]
        prologue += [
            f"export PYTHONPATH={scripts}${{PYTHONPATH:+:$PYTHONPATH}}",  # the tasks' code
            "export DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON__MALLOC_TRIM_THRESHOLD_=None",
        ]
        return SLURMCluster(
            cores=spec.threads_per_worker,
            processes=1,
            memory=f"{spec.memory_per_worker_mb}MiB",
            walltime=spec.walltime,
            queue=spec.queue,
            account=spec.account,
            interface=spec.interface,
            local_directory=spec.local_directory,
            job_script_prologue=prologue,
            job_extra_directives=list(spec.job_extra_directives),
            python=sys.executable,
            scheduler_options={"dashboard_address": None},
        )
    raise ValueError(f"hugearray.cluster.kind: {spec.kind!r} is not local or slurm")


@contextmanager
def main_not_imported() -> Iterator[None]:
    """Worker processes started meanwhile do not import this process's main script again.

    multiprocessing's spawn runs the parent's `__main__` file in each child (as
    `__mp_main__`): for a Snakemake job that is the rule's script with everything it
    imports, seconds per worker. The tasks need only `outofcore`, found on the path the
    children inherit. (A worker restarted later imports it, guarded by `__name__`.)"""
    main = sys.modules["__main__"]
    path = main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        if path is not None:
            main.__file__ = path


@contextmanager
def running_cluster(
    config: Mapping[str, Any] | None, cap_mb: int | None = None, probe: NodeProbe | None = None
) -> Iterator[Workers]:
    """A cluster up, its client the default one (the engine uses it), each worker under
    the job's memory cap, the limits of each worker node not measured yet measured on it
    (`probe`, before the cap); down again at the end, even when the reduce failed."""
    import dask
    from distributed import Client

    spec = ClusterSpec.from_config(config)
    started = time.perf_counter()
    with dask.config.set(worker_settings()):
        with main_not_imported():
            cluster = make_cluster(spec, Path(__file__).parents[2])
        try:
            if spec.kind == "slurm":
                cluster.scale(jobs=spec.workers)
            with Client(cluster, set_as_default=True) as client:
                client.wait_for_workers(spec.workers, timeout=spec.start_timeout_s)
                workers = Workers(time.perf_counter() - started)
                workers.node_limits = probe_nodes(client, probe) if probe is not None else None
                client.register_plugin(WorkerSetup(cap_mb))  # the same per-process cap as the job's
                workers.caps = sorted(set(client.run(worker_cap).values()))
                yield workers
                reports, nthreads = client.run(worker_report), client.nthreads()
                ordered = [reports[address] for address in sorted(reports)]
                workers.count = len(ordered)
                workers.threads = ";".join(str(nthreads.get(address, 0)) for address in sorted(reports))
                workers.nodes = ";".join(r["host"] for r in ordered)
                workers.peak_rss_mb = ";".join(f"{r['peak_rss_mb']:.0f}" for r in ordered)
        finally:
            cluster.close()


def reduce_distributed(
    store: Backend, path: Path, spec: StoreSpec, advance: Callable[[int], None]
) -> ColumnStats:
    """The engine: every block a task on the default client's workers, merged here."""
    from distributed import as_completed, default_client

    try:
        client = default_client()
    except ValueError:
        raise RuntimeError(
            "engine dask_distributed: no cluster is running (`running_cluster` starts one)"
        ) from None
    spans = list(spec.layout.blocks())
    where, run = str(Path(path).resolve()), time.monotonic_ns()  # a fresh key per reduce
    futures = [client.submit(reduce_span, store.name, where, spec, start, stop,
                             key=f"hugearray-block-{run}-{start}", retries=TASK_RETRIES)
               for start, stop in spans]  # fmt: skip
    parts = []
    for future in as_completed(futures):
        part = future.result()
        advance(part.rows)
        parts.append(part)
    if sum(part.rows for part in parts) != spec.layout.rows or len(parts) != len(spans):
        raise RuntimeError(f"the workers returned {len(parts)} of {len(spans)} blocks: no statistics")
    return ColumnStats.merged(parts)
