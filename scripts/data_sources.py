"""Rule `data_sources`: open every configured data source, refuse unusable files, list them."""

import sys
from typing import Any

import pandas as pd

from outofcore.core.files import log_to
from outofcore.core.report_tables import write_table
from outofcore.data.listing import source_row
from outofcore.data.readers import job_budget, prove_readable
from outofcore.data.sources import open_source, spec_of
from outofcore.plan.source_specs import SourceError


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    budget = job_budget(smk.resources.mem_mb)  # sizes known before reading are checked against it
    rows, refused = [], []
    for params in smk.params.sources:  # every source, so one run names every bad file
        spec = spec_of(params)
        try:
            source = open_source(spec, smk.params.seed, budget)
            prove_readable(spec, budget)
        except SourceError as error:
            refused.append(error)
            continue
        row = source_row(spec, source, max(smk.params.sizes))
        log.info("%s: %s; missing values %s", spec.label, source.description, row["missing_by_column"] or 0)
        rows.append(row)
    for error in refused:
        log.error("%s", error)
        print(error, file=sys.__stderr__)  # one line each, on the console too
    if refused:
        sys.exit(1)
    write_table(pd.DataFrame(rows), smk.output.csv, smk.output.html, "Data sources")


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
