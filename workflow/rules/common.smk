# Shared helpers of the rules: config validation and the list of final outputs.
import sys
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from snakemake.exceptions import WorkflowError
from snakemake.io import is_flagged
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))
from outofcore.plan import (
    configcheck,
    source_specs,
    jobs,
    leftovers,
    machine_fit,
    sizing,
)  # noqa: E402 - needs scripts/ on the path

# Timed jobs declare `timing_lock=1`: one such job at a time on a machine, so a timing is
# never skewed by another job sharing the cores. `--resources timing_lock=N` overrides it
# (the SLURM profile raises it: there every job has cores of its own).
if "timing_lock" not in workflow.global_resources:
    workflow.global_resources["timing_lock"] = 1

# The recipes the decision page shows (the whole way a user does each pick)
RECIPES = sorted(
    str(p) for p in (Path(workflow.basedir) / "docs" / "recipes").glob("*.py")
)

PARTICLE_THREADS = 2  # pandas (numexpr), DuckDB, Polars, Arrow; PyTables scans use 1

# Report categories, in the order the report lists them.
DECISION_CATEGORY = "0. What to use"
DATASETS_CATEGORY = "1. h5py datasets"
PARTICLES_CATEGORY = "2. PyTables particles"
BLOSC_CATEGORY = "3. blosc"
HUGEARRAY_CATEGORY = "4. Huge on-disk array"
SUMMARY_CATEGORY = "5. Machine limits and summary"

# Result paths, named once: the rules that write them, the rules that read them and the
# lists of final outputs below all use these names.
LIMITS = "results/limits.csv"
SOURCES = "results/data/sources.csv"
DATASETS_H5 = "results/datasets/random.h5"
DATASETS_SUMMARY = "results/datasets/summary.csv"
DATASETS_PARTIAL = "results/datasets/partial_read.csv"
PARTICLES_TABLE = "results/particles/{rows}/table.h5"
PARTICLES_QUERY = "results/particles/{rows}/query.csv"
PARTICLES_TIMINGS = "results/particles/{rows}/timings.csv"
PARTICLES_QUERY_TIME = "results/particles/query_time.png"
PARTICLES_FORMATS = "results/particles/formats.png"
PARTICLES_SHARES = "results/particles/shares.png"
BLOSC_PART = "results/blosc/parts/{data}/{method}/{codec}.csv"
BLOSC_SWEEP = "results/blosc/sweep.csv"
BLOSC_TARGETS = "results/blosc/targets.csv"
BLOSC_FIGURES = {  # by the name of the blosc_plots output
    "seed_png": "results/blosc/seed_loglog.png",
    "seed_svg": "results/blosc/seed_loglog.svg",
    "throughput_png": "results/blosc/throughput.png",
    "throughput_svg": "results/blosc/throughput.svg",
    "ratio_png": "results/blosc/ratio.png",
    "scaling_png": "results/blosc/scaling.png",
    "matrix_png": "results/blosc/matrix.png",
}
HUGEARRAY_JOB = "results/hugearray/{size_mb}/{data}/{engine}/{backend}"  # + a suffix
HUGEARRAY_SUMMARY = "results/hugearray/summary.csv"
HUGEARRAY_MEMORY = "results/hugearray/memory.png"
HUGEARRAY_THROUGHPUT = "results/hugearray/throughput.png"
# the naive way under the memory cap, beside the out-of-core jobs
HUGEARRAY_MEMORY_CAP = "results/hugearray/memory_cap.png"
HUGEARRAY_MEMORY_CAP_TABLE = "results/hugearray/memory_cap.csv"
NODE_LIMITS = "results/hugearray/node_limits.csv"
SUMMARY = "results/summary.csv"
SUMMARY_PNG = "results/summary.png"
DECISION = "results/decision.csv"
VERDICT = "results/verdict.rst"  # the landing page's first words (workflow/report/workflow.rst)
MANIFEST = "results/manifest.csv"
HEADLINE_STAGES = (
    "particles",
    "blosc",
    "hugearray",
)  # each writes results/<stage>/headline.csv


def headline(stage):
    """The headline figures of a stage: the one file the summary reads from it."""
    return f"results/{stage}/headline.csv"


def html_twin(path):
    """The HTML table written beside a CSV table (same name, .html)."""
    return str(Path(path).with_suffix(".html"))


def labels(item, kind):
    """Labels of a report item: what it shows, and as what (figure, table, CSV download)."""
    return {"item": item, "format": kind}


def reported(path, caption, category, item=None, kind=None, subcategory=None):
    """`path` in the report, under `category` (and `subcategory`), described by
    workflow/report/<caption>.rst and labelled `item` (what it shows) and `kind`."""
    return report(
        path,
        caption=f"../report/{caption}.rst",
        category=category,
        subcategory=subcategory,
        labels=labels(item, kind) if item else None,
    )


def reported_table(
    path, caption, category, item, subcategory=None, names=("csv", "html")
):
    """Named outputs of a table in the report: the CSV (a download) and its HTML twin
    (shown), with the same caption, category and item."""
    csv_name, html_name = names
    return {
        csv_name: reported(path, caption, category, item, "table as CSV", subcategory),
        html_name: reported(
            html_twin(path), caption, category, item, "table", subcategory
        ),
    }


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
    rows = config["particles"]["rows"]
    return [
        DATASETS_H5,
        DATASETS_SUMMARY,
        DATASETS_PARTIAL,
        SOURCES,
        *expand([PARTICLES_TABLE, PARTICLES_QUERY], rows=rows),
        *expand(
            list(jobs.particle_store_outputs(config["particles"]["formats"]).values()),
            rows=rows,
        ),
    ]


def timing_artifacts():
    """The run's measurements: they differ from run to run, so they stay out of the manifest."""
    return [
        *expand(PARTICLES_TIMINGS, rows=config["particles"]["rows"]),
        PARTICLES_QUERY_TIME,
        PARTICLES_FORMATS,
        PARTICLES_SHARES,
        BLOSC_SWEEP,
        BLOSC_TARGETS,
        *BLOSC_FIGURES.values(),
        HUGEARRAY_SUMMARY,
        HUGEARRAY_MEMORY,
        HUGEARRAY_THROUGHPUT,
        HUGEARRAY_MEMORY_CAP,
        HUGEARRAY_MEMORY_CAP_TABLE,
        *[headline(stage) for stage in HEADLINE_STAGES],
    ]


def data_output(path, keep=False, is_directory=False):
    """A large data output: a directory() if the store is one, temp() unless `keep`."""
    path = directory(path) if is_directory else path
    return path if keep else temp(path)


def all_outputs():
    """Every artifact of a full run."""
    return [
        DECISION,
        html_twin(DECISION),
        VERDICT,
        LIMITS,
        SUMMARY,
        SUMMARY_PNG,
        MANIFEST,
        *data_artifacts(),
        *timing_artifacts(),
    ]


onstart:
    # Only when jobs will run (never on a dry run), before the first starts. Jobs that run
    # here must fit this machine: a job needing more memory or disk than it (or its cgroup)
    # has is refused, naming the key; only the jobs this run starts count. The executor is known only now: on a cluster
    # (`--executor slurm`, the SLURM profile) each node has memory and disk of its own.
    if workflow.local_exec:
        rules = {job.rule.name for job in workflow.dag.needrun_jobs()}
        try:
            machine_fit.check_machine(config, "results", rules)
        except machine_fit.MachineTooSmall as error:
            raise WorkflowError(str(error)) from None
    # Under this run's lock: partials, disk probes and scratch directories of killed jobs
    # of this host go. With --nolock nothing is removed: a run without the lock cannot
    # know what else is running.
    if workflow.execution_settings.lock:
        for path in leftovers.remove_stale_leftovers("results"):
            print(f"removed {path}: left by a killed job", file=sys.stderr)


def remove_targets_temp():
    """Snakemake keeps the temporary outputs of a job the user asked for by name (one
    huge-array CSV: its GiB store stays); removed here once the run ends, whoever asked.
    """
    if workflow.storage_settings.notemp or workflow.dag is None:
        return
    outputs = [
        (str(path), is_flagged(path, "temp"))
        for job in workflow.dag.targetjobs
        for path in job.output
    ]
    for path in leftovers.remove_temporary(outputs):
        print(f"removed {path}: temporary", file=sys.stderr)


onsuccess:
    remove_targets_temp()


onerror:
    remove_targets_temp()
