"""Rule `summary`: the run's headline figures, each beside the machine limit that bounds it,
and the "what to use" decision: one row per (job, question, data), its recipe, and the
verdict the report's landing page opens with."""

from pathlib import Path
from typing import Any

import pandas as pd

from outofcore.core.files import atomic_output, log_to, save_figure
from outofcore.core.report_tables import write_table
from outofcore.summary.decision import decide, decision_page_extra, verdict_rst
from outofcore.summary.headline import read_headlines
from outofcore.summary.table import above_bound, plot_fractions, summarize
from outofcore.summary.views import decision_view, summary_view

DECISION_INTRO = (
    "One row per job, question and data this run measured: the pick (the fastest of the "
    "methods that are not the tutorial's way, or the smallest where the question asks for it), "
    "the call a user types (how) and its recipe (below), its value with the slowest and fastest "
    "sample, the spread of its samples, the methods tied with it (samples overlapping: among "
    "ties no winner), its size (file bytes or compression ratio), its fraction of the named limit "
    "(bound yes: a true ceiling; reference: a comparison only) and how many times faster it is "
    "than the tutorial's way. The table shows the columns a reader needs, every column of "
    "decision.csv under it (all columns). Click a header to sort. One run on one machine: read the ratios "
    "rather than the digits."
)
UNITS = {
    "fraction_of_limit": "1 = the limit",
    "vs_tutorial": "x the tutorial's speed",
    "vs_default": "x as shipped",
    "value_low": "slowest sample",
    "value_high": "fastest sample",
}


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    limits, headlines = pd.read_csv(smk.input.limits), read_headlines(smk.input.headlines)
    nodes = pd.read_csv(smk.input.node_limits, dtype={"host": str})
    summary = summarize(limits, headlines, nodes)  # the decision's candidates only left out
    log.info("summary:\n%s", summary.to_string(index=False))
    for row in above_bound(summary).itertuples(index=False):
        log.warning(
            "%s: %s is %.2fx its bound %s (%.3g %s): the bound does not bound it",
            row.stage, row.figure, row.fraction_of_limit, row.limit, row.limit_value, row.unit,
        )  # fmt: skip
    for row in summary[summary["flags"] != ""].itertuples(index=False):
        log.warning("%s: %s: %s", row.stage, row.figure, row.flags)
    write_table(summary, smk.output.csv, smk.output.html, "Headline figures beside the machine's limits",
                main=summary_view(summary))  # fmt: skip
    save_figure(plot_fractions(summary), smk.output.png)
    decision = decide(limits, headlines, nodes)
    log.info("what to use:\n%s", decision.to_string(index=False))
    recipes = {Path(path).stem: Path(path).read_text(encoding="utf-8") for path in smk.input.recipes}
    write_table(decision, smk.output.decision_csv, smk.output.decision_html, "What to use", DECISION_INTRO,
                UNITS, decision_page_extra(decision, recipes), decision_view(decision))  # fmt: skip
    with atomic_output(smk.output.verdict) as tmp:
        tmp.write_text(verdict_rst(decision), encoding="utf-8")


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
