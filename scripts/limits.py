"""Rule `limits`: the machine's own limits, measured in the same run as the stages they bound."""

import os
import time
from pathlib import Path
from typing import Any

from outofcore.core import contention
from outofcore.core.exclusive import timed_job
from outofcore.core.files import log_to
from outofcore.core.report_tables import write_table
from outofcore.limits.machine import measure_limits, thread_counts
from outofcore.limits.registry import row


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    with timed_job("limits", log):  # no other timed job on this machine meanwhile, in any run
        start = time.perf_counter()
        # the job runs alone: the cores it may run on, not only those it reserved
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        threads = thread_counts(cores, smk.params.threads)
        p = smk.params
        with contention.watch() as busy:
            frame = measure_limits(Path(smk.output.csv).parent, p.memcpy_mb, p.disk_mb, p.repeats, threads)
        log.info("while measuring, %s", busy)
        frame.loc[len(frame)] = row("others_busy", busy.others)
        log.info("limits measured in %.1f s:\n%s", time.perf_counter() - start, frame.to_string(index=False))
        write_table(frame, smk.output.csv, smk.output.html, "Machine limits and library versions")


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
