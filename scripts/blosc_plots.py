"""Rule `blosc_plots`: the blosc sweep's table, figures and performance ratios, from the jobs' parts."""

from typing import Any

from outofcore.blosc import matrix as blosc_matrix
from outofcore.blosc.figures import headline, main_view, ratio, scaling, seed_loglog, targets, throughput
from outofcore.blosc.rows import collect
from outofcore.core.files import log_to, save_figure
from outofcore.core.report_tables import write_table
from outofcore.core.timing import stable_flags
from outofcore.summary.headline import write_headline


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    sweep = collect(smk.input.parts)
    write_table(sweep, smk.output.csv, smk.output.sweep_html, "blosc sweep: every point")
    log.info("%d rows from %d sweep jobs", len(sweep), len(smk.input.parts))
    data, filters = smk.params.data[0], smk.params.filters[0]
    view = main_view(sweep, data, filters)
    log.info("size-sweep figures, targets and pack_array rows on %s with blosc2 filters %s", data, filters)
    table = targets(view)
    log.info("performance ratios:\n%s", table.to_string(index=False))
    write_table(table, smk.output.targets, smk.output.targets_html, "blosc performance ratios")
    save_figure(seed_loglog(view), smk.output.seed_png, smk.output.seed_svg)
    save_figure(throughput(view), smk.output.throughput_png, smk.output.throughput_svg)
    save_figure(ratio(view), smk.output.ratio_png)
    save_figure(scaling(view), smk.output.scaling_png)
    unstable = sweep[~stable_flags(sweep)]
    log.info("%d of %d points unstable (samples spread more than 15 %%)", len(unstable), len(sweep))
    picks = blosc_matrix.picks(blosc_matrix.points(sweep))
    log.info("picks (%s):\n%s", blosc_matrix.RULE, picks.to_string(index=False))
    save_figure(blosc_matrix.matrix(sweep), smk.output.matrix_png)
    write_headline([*headline(view), *blosc_matrix.headline(sweep)], smk.output.headline)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
