"""End to end: the real workflow, run by Snakemake on a tiny config, and its artifacts."""

import xml.etree.ElementTree as ET

import h5py
import matplotlib.image
import numpy as np
import pandas as pd

from conftest import load_config
from outofcore.blosc import matrix as blosc_matrix
from outofcore.blosc import rows as blosc_rows
from outofcore.datasets import named_arrays as h5_datasets
from outofcore.plan.jobs import blosc_combinations

TINY = load_config("tiny.yaml")


def test_datasets_stage_end_to_end(workflow_runner):
    workflow_runner(TINY, "datasets_listing")
    out = workflow_runner.workdir / "results" / "datasets"
    with h5py.File(out / "random.h5", "r") as h5:
        for spec in TINY["datasets"]["arrays"]:
            expected = h5_datasets.draw_array(7, spec["name"], spec["low"], spec["high"], spec["size"])
            np.testing.assert_array_equal(h5[spec["name"]][()], expected)
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["dataset", "size", "dtype", "min", "max", "mean"]
    assert sorted(summary["dataset"]) == ["deep/er/group", "random/small"]
    partial = pd.read_csv(out / "partial_read.csv")
    assert list(partial.columns) == ["dataset", "index", "value"]
    assert sorted(set(partial["index"])) == [3, 4, 5, 6, 7]
    assert (workflow_runner.workdir / "logs" / "datasets.log").stat().st_size > 0
    # nothing left half-written beside the outputs
    assert not [p for p in out.iterdir() if ".partial-" in p.name]


def test_rerun_with_nothing_changed_does_nothing(workflow_runner):
    workflow_runner(TINY, "datasets_listing")
    proc = workflow_runner(TINY, "datasets_listing", "--dry-run")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_full_run_ends_in_one_self_contained_report(tiny_run):
    report = tiny_run / "results" / "report.html"
    html = report.read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    for name in ("limits.csv", "summary.csv", "summary.png", "partial_read.csv", "manifest.csv"):
        assert name in html
    # self-contained: no stylesheet or script fetched from elsewhere
    assert 'src="http' not in html and 'href="http' not in html
    results = tiny_run / "results"
    for figure in results.rglob("*.png"):  # every plot of the run is in the report
        assert figure.name in html, figure
    limits = pd.read_csv(results / "limits.csv")
    bandwidths = limits[limits["unit"] == "GB/s"].set_index("name")["value"].astype(float)
    assert (bandwidths > 0).all()
    summary = pd.read_csv(results / "summary.csv")
    assert set(summary["stage"]) >= {"particles", "blosc"}
    # the ratios use this run's limits, not constants
    durable = summary[summary["limit"] == "durable write (fsync)"]  # the raw memmap file's write
    assert (durable["limit_value"] == bandwidths["durable_write"]).all() and len(durable) > 0
    assert set(summary["bound"]) <= {"yes", "reference"}
    assert (summary["fraction_of_limit"] - summary["value"] / summary["limit_value"]).abs().max() < 1e-12
    for table in results.rglob("*.csv"):  # every table of the report can be read in it
        item = table.relative_to(tiny_run)
        if f'"{item}": {{"name"' in html:  # a report item (its entry in the report's data)
            assert f'"{item.with_suffix(".html")}"' in html, item
    decision = pd.read_csv(results / "decision.csv")
    assert list(decision.columns)[:7] == [
        "job",
        "method",
        "value",
        "unit",
        "fraction_of_limit",
        "vs_tutorial",
        "setting",
    ]
    assert {"store a table", "query a table", "compress an array in memory"} <= set(decision["job"])
    assert decision[["question", "data"]].notna().all().all()  # every row names its question and data
    assert not decision.duplicated(["job", "question", "data"]).any()
    verdict = (results / "verdict.rst").read_text()
    assert verdict.count("app.showResultInfo('results/decision.html')") == decision["job"].nunique()
    assert (
        "What to use, from this run" in html
        and html.count("showResultInfo('results/decision.html')") == decision["job"].nunique()
    )
    assert set(decision["setting"]) <= {"tuned", "pipeline"}  # never a library left at its defaults
    assert {"default", "tuned"} <= set(summary.loc[summary["stage"] == "particles", "setting"])
    assert set(summary["setting"]) <= {"default", "tuned", "pipeline"} and summary["setting"].notna().all()
    arrays = pd.read_csv(results / "hugearray" / "summary.csv")
    assert set(zip(arrays["backend"], arrays["setting"], strict=True)) == {
        ("tables", "pipeline"), ("h5py", "pipeline"), ("memmap", "pipeline"),
        ("tables_filter", "default"), ("tables_filter", "tuned"),
    }  # fmt: skip


BLOSC_TINY = load_config("blosc_tiny.yaml")


def test_blosc_stage_end_to_end(workflow_runner):
    workflow_runner(BLOSC_TINY, "blosc_plots")
    out = workflow_runner.workdir / "results" / "blosc"
    sweep = pd.read_csv(out / "sweep.csv")
    assert list(sweep.columns) == blosc_rows.COLUMNS
    rows = sweep[sweep["method"] != "memcpy"]
    jobs = blosc_combinations(BLOSC_TINY["blosc"]["methods"], ["lz4"])
    extra = {"blosc2": "compress2", "pack_array": "pack_tensor"}  # the tuned rows a job also times
    tuned = {(extra[method], codec) for method, codec in jobs if method in extra}
    assert set(zip(rows["method"], rows["codec"], strict=True)) == set(jobs) | tuned
    assert len(rows) == (len(jobs) + len(tuned)) * 2 * 2 * 2  # sizes x threads x operations
    assert sorted(set(rows["size"])) == [10, 1000] and sorted(set(rows["threads"])) == [1, 2]
    copies = sweep[sweep["method"] == "memcpy"]  # copy, write, read over 1 and 2 threads
    assert sorted(zip(copies["operation"], copies["threads"], strict=True)) == [
        (kind, t) for kind in ("copy", "read", "write") for t in (1, 2)
    ]
    targets = pd.read_csv(out / "targets.csv")
    assert "best safe decompress / pack_array" in set(targets["quantity"])
    for name in ("seed_loglog.png", "throughput.png", "ratio.png", "scaling.png"):
        assert matplotlib.image.imread(out / name).ndim == 3
    for name in ("seed_loglog.svg", "throughput.svg"):
        assert ET.parse(out / name).getroot().tag.endswith("svg")
    logs = workflow_runner.workdir / "logs"
    assert (logs / "blosc_plots.log").stat().st_size > 0
    assert (logs / "blosc_sweep_linspace_compress_ptr_lz4.log").stat().st_size > 0
    assert not [p for p in out.rglob("*") if ".partial-" in p.name]


def test_blosc_sweep_on_generators_and_user_files(workflow_runner):
    """Generators, a user's .npy and an HDF5 dataset through the filter x codec matrix:
    each source in its dtype, the lossy pipeline's error recorded, picks per source."""
    workdir = workflow_runner.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    np.save(workdir / "mine.npy", np.cumsum(np.random.default_rng(1).normal(size=3000)).astype(np.float32))
    with h5py.File(workdir / "mine.h5", "w") as h5:
        h5.create_dataset("g/counts", data=np.random.default_rng(2).poisson(3, (200, 10)).astype(np.int16))
    data = ["linspace", "noisy_float", {"file": "mine.npy"}, {"file": "mine.h5:/g/counts", "name": "counts"}]
    data.append({"random_int": {"low": -100, "high": 100, "dtype": "int8"}, "name": "small"})
    filters = ["shuffle", "shuffle+bytedelta", "trunc_prec:16+shuffle"]
    blosc = {**BLOSC_TINY["blosc"], "methods": ["blosc2"], "threads": [2], "filters": filters}
    config = {"data": data, "blosc": {**blosc, "sizes": [1000, 10000]}, "limits": BLOSC_TINY["limits"]}
    workflow_runner(config, "blosc_plots")
    results = workdir / "results"
    sources = pd.read_csv(results / "data" / "sources.csv").set_index("data")
    assert sources.loc["counts", "dtype"] == "int16" and sources.loc["counts", "elements"] == 2000
    assert sources.loc["mine", "file"] == "mine.npy"
    assert (
        sources.loc["small", "dtype"] == "int8" and "[-100, 100], int8" in sources.loc["small", "description"]
    )
    sweep = pd.read_csv(results / "blosc" / "sweep.csv")
    rows = sweep[sweep["method"] != "memcpy"]
    assert set(rows["data"]) == {"linspace", "noisy_float", "mine", "counts", "small"}
    dtypes = rows.groupby("data")["dtype"].agg(set)
    assert dtypes["mine"] == {"float32"} and dtypes["small"] == {"int8"}
    lossy = rows["filters"] == "trunc_prec:16+shuffle"
    assert set(rows.loc[lossy, "data"]) == {"linspace", "noisy_float", "mine"}  # floats only
    assert (rows.loc[lossy, "max_error"] > 0).all() and (rows.loc[~lossy, "max_error"] == 0).all()
    assert matplotlib.image.imread(results / "blosc" / "matrix.png").ndim == 3
    headline = pd.read_csv(results / "blosc" / "headline.csv")
    picks = headline[headline["question"].isin(blosc_matrix.QUESTIONS.values())]
    assert len(picks) == 5 * 3 and not picks["method"].str.contains("trunc_prec").any()
    assert (picks.groupby("data").size() == 3).all()  # each source's fastest, smallest, balanced


def test_blosc_sweep_jobs_are_timed_alone_with_the_most_threads(workflow_runner):
    """One job per (method, codec), each holding the timing lock and the largest thread count."""
    config = {"blosc": {**BLOSC_TINY["blosc"], "threads": [1, 3], "codecs": ["lz4", "zstd"]}}
    proc = workflow_runner(config, "blosc_plots", "--dry-run", "--cores", "4")
    jobs = proc.stdout.split("rule blosc_sweep:")[1:]
    assert len(jobs) == 1 + 2 * 2  # pack_array + two safe methods x two codecs
    for job in jobs:
        assert "threads: 3" in job and "timing_lock=1" in job


def test_hdf5_layout_refused_by_the_first_job_before_any_sweep(workflow_runner):
    """What only h5py can see (a dataset whose bytes are in another file) stops the run in
    the data_sources job, with the one-line error naming the file; no sweep job runs."""
    workdir = workflow_runner.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    with h5py.File(workdir / "other.h5", "w") as other:
        other["x"] = np.zeros(10)
    with h5py.File(workdir / "virtual.h5", "w") as h5:
        layout = h5py.VirtualLayout(shape=(10,), dtype="f8")
        layout[:] = h5py.VirtualSource("other.h5", "x", shape=(10,))
        h5.create_virtual_dataset("v", layout)
    config = {"data": [{"file": "virtual.h5:/v"}], "blosc": BLOSC_TINY["blosc"]}
    proc = workflow_runner(config, "blosc_plots", check=False)
    assert proc.returncode != 0
    line = "config error: data[0].file = 'virtual.h5:/v': a virtual dataset"
    assert line in proc.stdout + proc.stderr
    assert not (workdir / "results" / "blosc").exists()
