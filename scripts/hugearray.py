"""Rule `hugearray`: an on-disk array larger than memory: built block by block, reduced out of core."""

import dataclasses
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pandas as pd

from outofcore.core import contention
from outofcore.core.exclusive import timed_job
from outofcore.core.files import log_to
from outofcore.hugearray.engines import get_engine
from outofcore.hugearray.job import HugeArrayJob, require_exact, run, write_measurement
from outofcore.hugearray.memcap import CapTooLow, apply_cap, out_of_memory
from outofcore.hugearray.naive import naive_measurement, write_naive
from outofcore.limits.node import limits_host, measure_here, this_host, write_node_limits


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    with timed_job("hugearray", log):  # no other timed job on this machine meanwhile, in any run
        p = smk.params.node_limits
        node = measure_here(smk.input.limits, Path(smk.output.table).parent, p["memcpy_mb"], p["disk_mb"],
                            p["repeats"], smk.threads)  # fmt: skip
        if not node.empty:
            log.info("limits of this node (not the limits job's):\n%s", node.to_string(index=False))
        job = HugeArrayJob.from_snakemake(smk)
        get_engine(job.engine, job.store)  # its libraries loaded before the cap, which counts from here
        with ExitStack() as stack:
            workers = None
            if job.engine == "dask_distributed":  # up before the cap and before the reduce's clock
                from outofcore.hugearray.dask_cluster import ClusterSpec, running_cluster
                from outofcore.hugearray.node_probe import NodeProbe

                known = {this_host(), limits_host(pd.read_csv(smk.input.limits))}  # measured already
                probe = NodeProbe.of(
                    job.path.parent, p, known, ClusterSpec.from_config(job.cluster).memory_per_worker_mb
                )
                workers = stack.enter_context(running_cluster(job.cluster, job.memory_cap_mb, probe))
                log.info("cluster %s: workers up in %.1f s, capped by %s", job.cluster,
                         workers.start_seconds, workers.caps)  # fmt: skip
                if not workers.node_limits.empty:
                    log.info("limits of the worker nodes, each measured on it:\n%s",
                             workers.node_limits.to_string(index=False))  # fmt: skip
                    node = pd.concat([node, workers.node_limits], ignore_index=True)
            write_node_limits(node, smk.output.node_limits)
            cap = apply_cap(job.memory_cap_mb)
            log.info("%s", cap.detail)
            with contention.watch() as busy:
                try:
                    measurement, stats, exact = run(job, log)
                except Exception as error:
                    if cap.active and out_of_memory(error):  # said as what to change, not as a traceback
                        raise CapTooLow(
                            f"hugearray.memory_cap_mb: {cap.mb:g} MiB is too little for the "
                            f"out-of-core job itself ({error}); raise it or lower block_mb"
                        ) from error
                    raise
        measurement = dataclasses.replace(measurement, others_busy=busy.others, host=this_host(),
                                          memory_cap_mb=cap.mb, cap=cap.how)  # fmt: skip
        if workers is not None:  # reported by the workers as the cluster closed
            measurement = dataclasses.replace(measurement, workers=workers.count, worker_nodes=workers.nodes,
                                              worker_peak_rss_mb=workers.peak_rss_mb,
                                              worker_threads=workers.threads,
                                              cluster_start_seconds=workers.start_seconds)  # fmt: skip
        log.info("while timing, %s", busy)
        log.info("out-of-core statistics:\n%s", stats.table().to_string())
        log.info("reference statistics of the source (before writing):\n%s", exact.table().to_string())
        log.info("measurement: %s", measurement)
        require_exact(measurement, smk.output.data)  # a wrong answer fails the job
        write_measurement(measurement, smk.output.table)
        naive = naive_measurement(job, measurement, exact, cap) if job.naive else None  # store still here
        if naive is not None:
            log.info("the naive way (the whole array loaded) under the same cap: %s", naive)
        write_naive(naive, smk.output.naive)


# __main__ only: dask's worker processes (spawned) import this file again as __mp_main__
if __name__ == "__main__" and "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
