"""Rule `data_sources`: open every configured data source, refuse unusable files, list them."""

import sys
from typing import Any

import pandas as pd

from outofcore.core.files import log_to
from outofcore.core.report_tables import write_table
from outofcore.data.listing import source_row
from outofcore.data.sources import open_source, spec_of
from outofcore.plan.source_specs import SourceError


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    rows = []
    for params in smk.params.sources:
        spec = spec_of(params)
        try:
            source = open_source(spec, smk.params.seed)
        except SourceError as error:
            log.error("%s", error)
            print(error, file=sys.__stderr__)  # the one line, on the console too
            sys.exit(1)
        row = source_row(spec, source, max(smk.params.sizes))
        log.info("%s: %s; missing values %s", spec.label, source.description, row["missing_by_column"] or 0)
        rows.append(row)
    write_table(pd.DataFrame(rows), smk.output.csv, smk.output.html, "Data sources")


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
