"""Rule `summary`: the run's headline figures, each beside the machine limit that bounds it."""

from typing import Any

import pandas as pd

from outofcore.headline import read_headlines
from outofcore.io_utils import log_to, save_figure, write_csv
from outofcore.summary_table import above_bound, plot_fractions, summarize


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    summary = summarize(pd.read_csv(smk.input.limits), read_headlines(smk.input.headlines))
    log.info("summary:\n%s", summary.to_string(index=False))
    for row in above_bound(summary).itertuples(index=False):
        log.warning(
            "%s: %s is %.2fx its bound %s (%.3g %s): the bound does not bound it",
            row.stage, row.figure, row.fraction_of_limit, row.limit, row.limit_value, row.unit,
        )  # fmt: skip
    for row in summary[summary["flags"] != ""].itertuples(index=False):
        log.warning("%s: %s: %s", row.stage, row.figure, row.flags)
    write_csv(summary, smk.output.csv)
    save_figure(plot_fractions(summary), smk.output.png)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
