"""Rule `datasets`: the tutorial's step 1, named random integer arrays in one HDF5 file (h5py)."""

from typing import Any

from outofcore.core.files import log_to
from outofcore.datasets.named_arrays import write_datasets


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    write_datasets(smk.output.h5, smk.params.arrays, smk.params.seed)
    log.info("wrote %d datasets to %s", len(smk.params.arrays), smk.output.h5)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
