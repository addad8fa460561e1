"""Rule `blosc_plots`: the blosc sweep's table, figures and performance ratios, from the jobs' parts."""

from typing import Any

from outofcore.blosc_bench import collect
from outofcore.blosc_figures import headline, ratio, scaling, seed_loglog, targets, throughput
from outofcore.headline import write_headline
from outofcore.io_utils import log_to, save_figure, write_csv


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    sweep = collect(smk.input.parts)
    write_csv(sweep, smk.output.csv)
    log.info("%d rows from %d sweep jobs", len(sweep), len(smk.input.parts))
    table = targets(sweep)
    log.info("performance ratios:\n%s", table.to_string(index=False))
    write_csv(table, smk.output.targets)
    save_figure(seed_loglog(sweep), smk.output.seed_png, smk.output.seed_svg)
    save_figure(throughput(sweep), smk.output.throughput_png, smk.output.throughput_svg)
    save_figure(ratio(sweep), smk.output.ratio_png)
    save_figure(scaling(sweep), smk.output.scaling_png)
    unstable = sweep[~sweep["stable"].astype(str).str.lower().eq("true")]
    log.info("%d of %d points unstable (samples spread more than 15 %%)", len(unstable), len(sweep))
    write_headline(headline(sweep), smk.output.headline)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
