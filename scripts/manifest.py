"""Rule `manifest`: a manifest of the run's data artifacts: path, sha256 and size of each file."""

from typing import Any

from outofcore.core.files import log_to
from outofcore.core.report_tables import write_table
from outofcore.summary.manifest import manifest


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    frame = manifest(smk.input)
    log.info("manifest of %d files", len(frame))
    write_table(frame, smk.output.csv, smk.output.html, "Data manifest (SHA-256 of every data file)")


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
