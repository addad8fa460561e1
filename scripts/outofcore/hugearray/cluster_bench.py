"""The `dask_distributed` engine's benchmark: reduce GB/s against the number of worker
processes (1, 2, 4, ... up to the cores), beside the `threads` engine on the same store,
and each worker's peak RSS, at each array size (`make bench`).

Each store is written once per size; before every reduce it is evicted from the page
cache (a cold read, as in the stage). At each worker count a `threads` reduce (with as
many threads) and a `dask_distributed` reduce alternate, so their ratio is taken under
the same load; the cluster's start is timed apart from its reduce. The statistics of
every reduce are checked exactly, as in the stage. Goals stated in the table:
`scaling` = GB/s / (workers x the one-worker GB/s) (at least 0.7 up to the bound), and
`vs_threads` = GB/s / the threads engine's (at least 0.85 on one node).
"""

import os
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from outofcore.core import contention
from outofcore.hugearray.dask_cluster import running_cluster
from outofcore.hugearray.job import GB, HugeArrayJob, reduce_array, write_array

COLUMNS = ["backend", "size_mb", "workers", "threads_gbps", "distributed_gbps", "vs_threads", "scaling",
           "cluster_start_seconds", "worker_peak_rss_mb", "max_worker_rss_mb", "check",
           "others_busy"]  # fmt: skip


def worker_counts(cores: int) -> list[int]:
    """1, 2, 4, ... up to the cores, and the cores themselves."""
    counts, n = [], 1
    while n < cores:
        counts.append(n)
        n *= 2
    return [*counts, cores]


def one_store(job: HugeArrayJob, counts: Sequence[int]) -> list[dict]:
    """Write the job's store, then at each worker count a cold threads reduce and a cold
    dask_distributed reduce; one row per count."""
    _, exact = write_array(job)
    rows = []
    try:
        for n in counts:
            threads = replace(job, engine="threads", threads=n)
            job.store.evict(job.path)
            seconds, stats, _ = reduce_array(threads)
            ok = stats.matches(exact)
            threads_gbps = job.layout.nbytes / seconds / GB
            cluster = {"kind": "local", "workers": n, "threads_per_worker": 1, "memory_per_worker_mb": 4096}
            with running_cluster(cluster) as workers, contention.watch() as busy:
                job.store.evict(job.path)
                seconds, stats, _ = reduce_array(replace(job, engine="dask_distributed"))
            ok = ok and stats.matches(exact)
            gbps = job.layout.nbytes / seconds / GB
            rss = [float(mb) for mb in workers.peak_rss_mb.split(";")]
            rows.append({"backend": job.backend, "size_mb": job.size_mb, "workers": n,
                         "threads_gbps": threads_gbps, "distributed_gbps": gbps,
                         "vs_threads": gbps / threads_gbps,
                         "cluster_start_seconds": workers.start_seconds,
                         "worker_peak_rss_mb": workers.peak_rss_mb, "max_worker_rss_mb": max(rss),
                         "check": "ok" if ok else "mismatch", "others_busy": busy.others})  # fmt: skip
    finally:
        shutil.rmtree(job.path) if job.path.is_dir() else job.path.unlink(missing_ok=True)
    return rows


def sweep(directory: Path, sizes_mb: Sequence[int], backends: Sequence[str], cores: int | None = None,
          block_mb: int = 64, seed: int = 42) -> pd.DataFrame:  # fmt: skip
    """Every backend at every size over the worker counts; `scaling` against each
    (backend, size)'s one-worker rate."""
    from outofcore.hugearray.stores.registry import get_backend

    directory.mkdir(parents=True, exist_ok=True)
    counts = worker_counts(cores or os.cpu_count() or 1)
    rows = []
    for size_mb in sizes_mb:
        for backend in backends:
            path = directory / f"bench-{backend}{get_backend(backend).suffix}"
            job = HugeArrayJob(path, backend, size_mb=size_mb, columns=8, block_mb=block_mb, chunk_kb=4096,
                               compression="blosc2:lz4", seed=seed, threads=counts[-1])  # fmt: skip
            rows += one_store(job, counts)
    frame = pd.DataFrame(rows)
    first = frame.groupby(["backend", "size_mb"])["distributed_gbps"].transform("first")
    frame["scaling"] = frame["distributed_gbps"] / (frame["workers"] * first)
    return frame[COLUMNS]


def rss_growth(frame: pd.DataFrame) -> pd.DataFrame:
    """Per backend and worker count, the largest worker's peak RSS growth from the
    smallest size to the largest (the goal: under 16 MiB)."""
    ordered = frame.sort_values("size_mb")
    grouped = ordered.groupby(["backend", "workers"])["max_worker_rss_mb"]
    return (grouped.last() - grouped.first()).rename("rss_growth_mb").reset_index()
