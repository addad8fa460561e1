"""Rule `summary`: the run's headline figures, each beside the machine limit that bounds it,
and the "what to use" page: the fastest method of each job."""

from typing import Any

import pandas as pd

from outofcore.core.files import log_to, save_figure
from outofcore.core.report_tables import write_table
from outofcore.summary.headline import read_headlines
from outofcore.summary.table import DECISION_INTRO, above_bound, decide, plot_fractions, summarize


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    limits, headlines = pd.read_csv(smk.input.limits), read_headlines(smk.input.headlines)
    nodes = pd.read_csv(smk.input.node_limits, dtype={"host": str})
    summary = summarize(limits, headlines, nodes)
    log.info("summary:\n%s", summary.to_string(index=False))
    for row in above_bound(summary).itertuples(index=False):
        log.warning(
            "%s: %s is %.2fx its bound %s (%.3g %s): the bound does not bound it",
            row.stage, row.figure, row.fraction_of_limit, row.limit, row.limit_value, row.unit,
        )  # fmt: skip
    for row in summary[summary["flags"] != ""].itertuples(index=False):
        log.warning("%s: %s: %s", row.stage, row.figure, row.flags)
    write_table(summary, smk.output.csv, smk.output.html, "Headline figures beside the machine's limits")
    save_figure(plot_fractions(summary), smk.output.png)
    decision = decide(limits, headlines, nodes)
    log.info("what to use:\n%s", decision.to_string(index=False))
    units = {"fraction_of_limit": "1 = the limit", "vs_tutorial": "x the tutorial's speed"}
    write_table(decision, smk.output.decision_csv, smk.output.decision_html, "What to use",
                DECISION_INTRO, units)  # fmt: skip


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
