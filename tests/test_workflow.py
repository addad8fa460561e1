"""End to end: the real workflow, run by Snakemake on a tiny config, and its artifacts."""

import h5py
import numpy as np
import pandas as pd

import datasets

TINY = {
    "seed": 7,
    "datasets": {
        "arrays": [
            {"name": "random/small", "low": 0, "high": 9, "size": 50},
            {"name": "deep/er/group", "low": -5, "high": 5, "size": 40},
        ],
        "slice": [3, 8],
    },
    "limits": {"memcpy_mb": 16, "disk_mb": 8, "repeats": 1},
    "particles": {"rows": [10], "row_by_row_max": 10},
}


def test_datasets_stage_end_to_end(workflow_runner):
    workflow_runner(TINY, "datasets")
    out = workflow_runner.workdir / "results" / "datasets"
    with h5py.File(out / "random.h5", "r") as h5:
        for spec in TINY["datasets"]["arrays"]:
            expected = datasets.draw_array(7, spec["name"], spec["low"], spec["high"], spec["size"])
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
    workflow_runner(TINY, "datasets")
    proc = workflow_runner(TINY, "datasets", "--dry-run")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_full_run_ends_in_one_self_contained_report(workflow_runner):
    workflow_runner(TINY, "--report", "results/report.html", "--report-after-run")
    report = workflow_runner.workdir / "results" / "report.html"
    html = report.read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    for name in ("limits.csv", "summary.csv", "partial_read.csv"):
        assert name in html
    # self-contained: no stylesheet or script fetched from elsewhere
    assert 'src="http' not in html and 'href="http' not in html
    limits = pd.read_csv(workflow_runner.workdir / "results" / "limits.csv")
    assert (pd.to_numeric(limits.loc[limits["unit"] == "GB/s", "value"]) > 0).all()
