"""Rule `particles_plot`: query time against table size, one line per method, the stores
side by side and query time against the share of rows returned, from every timings.csv;
the stage's headline."""

from typing import Any

import pandas as pd

from outofcore.core.files import log_to, save_figure
from outofcore.particles.figures import all_timings, headline, plot_query_time, query_timings
from outofcore.particles.share_figure import plot_shares, share_points
from outofcore.particles.store_figure import plot_formats
from outofcore.plan.query import parse_query, to_text
from outofcore.summary.headline import write_headline


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    query = to_text(parse_query(smk.params.query))  # the checked normal form, never raw text
    timings = query_timings(smk.input)
    save_figure(plot_query_time(timings, query), smk.output.plot)
    log.info("plotted %d query timings to %s", len(timings), smk.output.plot)
    save_figure(plot_formats(all_timings(smk.input), query), smk.output.formats)
    tables = [pd.read_csv(path) for path in smk.input]
    save_figure(plot_shares(share_points(tables), query), smk.output.shares)
    write_headline(headline(tables, smk.params.threads), smk.output.headline)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
