"""Rule `blosc_sweep`: the tutorial's steps 3-4, blosc compression of one data source across sizes."""

from typing import Any

import blosc

from outofcore.blosc.bench import sweep
from outofcore.core import contention
from outofcore.core.exclusive import timed_job
from outofcore.core.files import log_to, write_csv
from outofcore.data.sources import open_source, spec_of
from outofcore.plan.jobs import resolve_threads


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    p = smk.params
    method, codec = smk.wildcards.method, smk.wildcards.codec
    with timed_job(f"blosc_sweep {method}/{codec}", log):  # alone on the machine
        source = open_source(spec_of(p.source), p.seed)
        threads = resolve_threads(p.threads, smk.threads)
        log.info("data %s: %s", source.label, source.description)
        log.info(
            "blosc %s, threads %s (configured %s), %d cores given",
            blosc.__version__,
            threads,
            p.threads,
            smk.threads,
        )
        with contention.watch() as busy:
            table = sweep(
                method, codec, p.sizes, p.clevel, threads, p.repeats, p.min_time, log.info,
                source=source, filters=p.filters,
            )  # fmt: skip
        table["others_busy"] = busy.others
    log.info("while sweeping, %s", busy)
    if busy.others > contention.BUSY:
        log.warning("the machine was shared: these timings are slower and noisier than it can do")
    write_csv(table, smk.output.csv)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
