# Larger-than-memory data in Python: HDF5 (h5py, PyTables), blosc, out-of-core arrays.
# This file only sets the version, the config and its validation, and the stages.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"


validate_config(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/limits.smk"
include: "workflow/rules/datasets.smk"
include: "workflow/rules/particles.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/blosc.smk"
include: "workflow/rules/hugearray.smk"
include: "workflow/rules/manifest.smk"
include: "workflow/rules/summary.smk"


rule all:
    default_target: True
    input:
        all_outputs(),
