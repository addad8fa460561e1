# Shared helpers of the rules: config validation and the list of final outputs.
import sys
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))
from outofcore.plan import (
    configcheck,
    source_specs,
    jobs,
    leftovers,
    sizing,
)  # noqa: E402 - needs scripts/ on the path

# Timed jobs declare `timing_lock=1`: one such job at a time on a machine, so a timing is
# never skewed by another job sharing the cores. `--resources timing_lock=N` overrides it
# (the SLURM profile raises it: there every job has cores of its own).
if "timing_lock" not in workflow.global_resources:
    workflow.global_resources["timing_lock"] = 1

PARTICLE_THREADS = 2  # pandas (numexpr), DuckDB, Polars, Arrow; PyTables scans use 1


def labels(item, kind):
    """Labels of a report item: what it shows, and as what (figure, table, CSV download)."""
    return {"item": item, "format": kind}


def validate_config(config, schema):
    """Fill defaults and reject a bad config with one line naming the key and value."""
    schema = str(Path(workflow.basedir) / schema)
    rules = yaml.safe_load(Path(schema).read_text())
    try:
        configcheck.check_all(
            config,
            rules,
            lambda config, rules: best_match(
                Draft202012Validator(rules).iter_errors(config)
            ),
            lambda config: validate(config, schema),  # sets the schema's defaults
        )
    except configcheck.ConfigError as error:
        raise WorkflowError(str(error)) from None


def blosc_threads_request():
    """Cores of a blosc sweep job: its largest thread count, `all` = the cores Snakemake
    has here (the job itself resolves `all` to the cores it was given)."""
    threads = config["blosc"]["threads"]
    if jobs.ALL not in threads:
        return max(threads)
    try:  # a cluster executor may leave the total cores undefined
        cores = workflow.cores
    except WorkflowError:
        cores = None
    return jobs.threads_request(threads, sizing.job_cores(cores))


def data_artifacts():
    """The run's data (HDF5 files, data tables): reproducible byte for byte from the config."""
    return [
        "results/datasets/random.h5",
        "results/datasets/summary.csv",
        "results/datasets/partial_read.csv",
        "results/data/sources.csv",
        *expand(
            "results/particles/{rows}/{name}",
            rows=config["particles"]["rows"],
            name=["table.h5", "query.csv"],
        ),
        *expand(
            "results/particles/{rows}/{name}",
            rows=config["particles"]["rows"],
            name=[
                jobs.PARTICLE_STORE_FILES[fmt] for fmt in config["particles"]["formats"]
            ],
        ),
    ]


def timing_artifacts():
    """The run's measurements: they differ from run to run, so they stay out of the manifest."""
    return [
        *expand(
            "results/particles/{rows}/timings.csv", rows=config["particles"]["rows"]
        ),
        "results/particles/query_time.png",
        "results/particles/formats.png",
        "results/blosc/sweep.csv",
        "results/blosc/targets.csv",
        "results/blosc/seed_loglog.png",
        "results/blosc/seed_loglog.svg",
        "results/blosc/throughput.png",
        "results/blosc/throughput.svg",
        "results/blosc/ratio.png",
        "results/blosc/scaling.png",
        "results/blosc/matrix.png",
        "results/hugearray/summary.csv",
        "results/hugearray/memory.png",
        "results/hugearray/throughput.png",
        "results/hugearray/memory_cap.png",
        "results/hugearray/memory_cap.csv",
        *[
            f"results/{stage}/headline.csv"
            for stage in ("particles", "blosc", "hugearray")
        ],
    ]


def data_output(path, keep=False, is_directory=False):
    """A large data output: a directory() if the store is one, temp() unless `keep`."""
    path = directory(path) if is_directory else path
    return path if keep else temp(path)


def all_outputs():
    """Every artifact of a full run."""
    return [
        "results/decision.csv",
        "results/decision.html",
        "results/limits.csv",
        "results/summary.csv",
        "results/summary.png",
        "results/manifest.csv",
        *data_artifacts(),
        *timing_artifacts(),
    ]


onstart:
    # Under this run's lock and only when jobs will run (never on a dry run): partials,
    # disk probes and scratch directories of killed jobs of this host go. With --nolock
    # nothing is removed: a run without the lock cannot know what else is running.
    if workflow.execution_settings.lock:
        for path in leftovers.remove_stale_leftovers("results"):
            print(f"removed {path}: left by a killed job", file=sys.stderr)
