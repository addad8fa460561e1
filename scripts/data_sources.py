"""Rule `data_sources`: open every configured data source, refuse unusable files, list them."""

import sys
from typing import Any

import pandas as pd

from outofcore.core.files import log_to
from outofcore.core.report_tables import write_table
from outofcore.data.sources import job_budget, open_source, prove_readable, spec_of
from outofcore.plan.source_specs import SourceError


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    budget = job_budget(smk.resources.mem_mb)
    rows, refused = [], []
    for params in smk.params.sources:  # every source, so one run names every bad file
        spec = spec_of(params)
        try:
            source = open_source(spec, smk.params.seed, budget)
            prove_readable(spec, budget)
        except SourceError as error:
            refused.append(error)
            continue
        log.info("%s: %s", spec.label, source.description)
        rows.append(
            {
                "data": spec.label,
                "kind": spec.kind,
                "file": spec.where,
                "dtype": str(source.dtype),
                "elements": source.length or "",
                "description": source.description,
            }
        )
    for error in refused:
        log.error("%s", error)
        print(error, file=sys.__stderr__)  # one line each, on the console too
    if refused:
        sys.exit(1)
    write_table(pd.DataFrame(rows), smk.output.csv, smk.output.html, "Data sources")


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
