"""Rule `hugearray_plots`: the huge-array table, peak memory and throughput against array size."""

from typing import Any

import pandas as pd

from outofcore.core.files import log_to, save_figure, write_csv
from outofcore.core.report_tables import write_table
from outofcore.hugearray.capfigure import comparison, load_naive, plot_memory_cap
from outofcore.hugearray.figures import headline, limit_lines, load_measurements, plot_memory, plot_throughput
from outofcore.limits.node import collect, write_node_limits
from outofcore.summary.headline import write_headline

MAIN_COLUMNS = ["data", "backend", "engine", "setting", "size_mb", "compression", "file_bytes", "write_gbps",
                "reduce_gbps", "peak_rss_mb", "bounded", "spread"]  # fmt: skip


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    frame = load_measurements(smk.input.tables)
    log.info("measurements:\n%s", frame.to_string(index=False))
    write_table(frame, smk.output.summary, smk.output.summary_html, "Arrays larger than memory: measurements",
                main=MAIN_COLUMNS)  # fmt: skip
    save_figure(plot_memory(frame), smk.output.memory)
    nodes = collect(smk.input.node_limits)  # limits of the nodes other than the limits job's
    lines = limit_lines(frame, smk.params.threads, smk.params.cold_read, pd.read_csv(smk.input.limits), nodes)
    save_figure(plot_throughput(frame, smk.params.cold_read, lines), smk.output.throughput)
    cap = comparison(load_naive(smk.input.naive), frame)  # the naive way beside the out-of-core jobs
    log.info("under the memory cap:\n%s", cap.to_string(index=False))
    write_csv(cap, smk.output.memory_cap_table)
    save_figure(plot_memory_cap(cap, smk.params.memory_cap_mb), smk.output.memory_cap)
    write_headline(headline(frame, smk.params.threads, smk.params.cold_read), smk.output.headline)
    log.info("limits measured by the jobs on their own nodes: %s", sorted(set(nodes["host"])) or "none")
    write_node_limits(nodes, smk.output.node_limits)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
