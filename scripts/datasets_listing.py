"""Rule `datasets_listing`: the tutorial reopens the file, lists every dataset and reads a slice."""

from typing import Any

from outofcore.core.files import log_to
from outofcore.core.report_tables import write_table
from outofcore.datasets.named_arrays import partial_read, summarize


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    start, stop = smk.params.slice
    summary = summarize(smk.input.h5)
    log.info("listing:\n%s", summary.to_string(index=False))
    write_table(summary, smk.output.summary, smk.output.summary_html, "Datasets in the HDF5 file")
    write_table(partial_read(smk.input.h5, start, stop), smk.output.partial, smk.output.partial_html,
                f"Slice [{start}:{stop}] of every dataset, read without loading the array")  # fmt: skip


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
