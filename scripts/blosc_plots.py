"""Rule `blosc_plots`: the blosc sweep's table, figures and performance ratios, from the jobs' parts."""

from typing import Any

from outofcore.blosc_bench import collect
from outofcore.blosc_figures import headline, ratio, seed_loglog, targets, throughput
from outofcore.headline import write_headline
from outofcore.io_utils import log_to, save_figure
from outofcore.tables import write_table


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    sweep = collect(smk.input.parts)
    write_table(sweep, smk.output.csv, smk.output.sweep_html, "blosc sweep: every point")
    log.info("%d rows from %d sweep jobs", len(sweep), len(smk.input.parts))
    table = targets(sweep)
    log.info("performance ratios:\n%s", table.to_string(index=False))
    write_table(table, smk.output.targets, smk.output.targets_html, "blosc performance ratios")
    save_figure(seed_loglog(sweep), smk.output.seed_png, smk.output.seed_svg)
    save_figure(throughput(sweep), smk.output.throughput_png, smk.output.throughput_svg)
    save_figure(ratio(sweep), smk.output.ratio_png)
    write_headline(headline(sweep), smk.output.headline)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
