# Shared helpers of the rules: config validation and the list of final outputs.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))
import configcheck  # noqa: E402 - needs the scripts folder on the path

# Timed jobs declare `timing_lock=1`: one such job at a time on a machine, so a timing is
# never skewed by another job sharing the cores. `--resources timing_lock=N` overrides it
# (the SLURM profile raises it: there every job has cores of its own).
if "timing_lock" not in workflow.global_resources:
    workflow.global_resources["timing_lock"] = 1


def validate_config(config, schema):
    """Fill defaults and reject a bad config with one line naming the key and value."""
    schema = str(Path(workflow.basedir) / schema)
    error = configcheck.schema_error(config, schema)
    if error is not None:
        raise WorkflowError(str(error))
    validate(config, schema)  # sets the schema's defaults
    try:
        configcheck.check_config(config)
    except configcheck.ConfigError as error:
        raise WorkflowError(str(error)) from None


def all_outputs():
    """Every artifact of a full run."""
    return [
        "results/datasets/random.h5",
        "results/datasets/summary.csv",
        "results/datasets/partial_read.csv",
        "results/hugearray/summary.csv",
        "results/hugearray/memory.png",
        "results/hugearray/throughput.png",
    ]
