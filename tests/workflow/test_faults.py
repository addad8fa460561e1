"""Trustworthy runs: killed writers, write errors, concurrent runs, reproducible data.

Each test drives the real workflow with Snakemake and real HDF5 files.
"""

import os
import resource
import signal
import subprocess
import time
from pathlib import Path

import h5py
import pandas as pd
import pytest

from conftest import load_config, run_workflow, workflow_command
from outofcore.core.files import InputReadError
from outofcore.datasets import named_arrays as h5_datasets
from outofcore.summary.manifest import sha256_of

# several large arrays: the HDF5 file stays open (partial) for a second or more
BIG = load_config("faults_big.yaml")
H5 = Path("results/datasets/random.h5")


def partials(directory: Path) -> list[Path]:
    return sorted(directory.glob(".*.partial-*")) if directory.exists() else []


def wait_for_partial(workdir: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Block until the datasets job has its HDF5 output half-written."""
    deadline = time.monotonic() + timeout
    while not partials(workdir / H5.parent):
        assert proc.poll() is None, "the run ended before the output was being written"
        assert time.monotonic() < deadline, "the output was never being written"
        time.sleep(0.01)


def start(workdir: Path, config: dict, *args: str, **popen) -> subprocess.Popen:
    cmd = workflow_command(workdir, config, *args)
    return subprocess.Popen(
        cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen
    )


@pytest.fixture(scope="module")
def expected_big_h5(tmp_path_factory) -> str:
    """SHA-256 of the uninterrupted result, written by the stage's own function."""
    path = tmp_path_factory.mktemp("expected") / "random.h5"
    h5_datasets.write_datasets(path, BIG["datasets"]["arrays"], BIG["seed"])
    return sha256_of(path)


def test_killed_run_leaves_no_complete_looking_file_and_rerun_recovers(tmp_path, expected_big_h5):
    run = start(tmp_path, BIG, str(H5), start_new_session=True)
    wait_for_partial(tmp_path, run)
    os.killpg(run.pid, signal.SIGKILL)  # the whole run: snakemake and its job
    run.wait(timeout=60)
    assert not (tmp_path / H5).exists()  # never a truncated file under the real name

    # what docs/operations.md tells a user after a crash: release the stale lock, rerun
    stale = run_workflow(tmp_path, BIG, str(H5), check=False)
    assert stale.returncode != 0 and "cannot be locked" in stale.stdout + stale.stderr
    run_workflow(tmp_path, BIG, "--unlock")
    rerun = run_workflow(tmp_path, BIG, str(H5), "--rerun-incomplete")
    assert rerun.returncode == 0
    assert sha256_of(tmp_path / H5) == expected_big_h5
    assert partials(tmp_path / H5.parent) == []  # the killed writer's leftovers are gone


def test_second_run_in_same_directory_is_refused(tmp_path):
    # large enough that the first run is still writing and listing when the second starts
    config = {**BIG, "datasets": {**BIG["datasets"], "arrays": [
        {"name": f"big/a{i}", "low": 0, "high": 10**9, "size": 40_000_000} for i in range(4)
    ]}}  # fmt: skip
    first = start(tmp_path, config, "datasets_listing")
    try:
        wait_for_partial(tmp_path, first)
        second = run_workflow(tmp_path, config, "datasets_listing", check=False)
        assert first.poll() is None, "the first run ended before the second started: enlarge the arrays"
        assert second.returncode != 0
        # Snakemake refuses through its lock, or (if it looks at the first run's running
        # job first) through the incomplete-output check: either way nothing is touched
        out = second.stdout + second.stderr
        assert "cannot be locked" in out or "incomplete" in out.lower(), out
    finally:
        first_output, _ = first.communicate(timeout=300)
    assert first.returncode == 0, first_output
    # the refused run corrupted nothing: every checksummed block reads back
    listing = h5_datasets.summarize(tmp_path / H5)
    assert list(listing["size"]) == [40_000_000] * 4


def limit_file_size(max_bytes: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))


def test_write_error_names_the_file_and_leaves_nothing_partial(tmp_path):
    small = {
        **BIG,
        "datasets": {"arrays": [{"name": "x", "low": 0, "high": 9, "size": 100}], "slice": [0, 5]},
    }
    run_workflow(tmp_path, small, str(H5), "results/limits.csv")  # finished outputs that must survive
    limits_sha = sha256_of(tmp_path / "results" / "limits.csv")

    big = {
        **small,
        "datasets": {"arrays": [{"name": "x", "low": 0, "high": 9, "size": 2_000_000}], "slice": [0, 5]},
    }
    cmd = workflow_command(tmp_path, big, str(H5))
    failed = subprocess.run(
        cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300, preexec_fn=limit_file_size(4 << 20)
    )
    assert failed.returncode != 0
    log = (tmp_path / "logs" / "datasets.log").read_text()
    assert f"could not write {H5}" in log, log
    assert not (tmp_path / H5).exists()
    assert partials(tmp_path / H5.parent) == []
    assert sha256_of(tmp_path / "results" / "limits.csv") == limits_sha


def test_same_config_same_data_other_seed_differs(tmp_path):
    config = {
        **BIG,
        "datasets": {"arrays": [{"name": "r/a", "low": 0, "high": 99, "size": 5000}], "slice": [0, 5]},
        # every stage, one job or two each: the manifest covers all their data artifacts
        "blosc": {**BIG["blosc"], "methods": ["compress_ptr"]},
        "hugearray": {**BIG["hugearray"], "backends": ["h5py", "memmap"], "settings": ["default"]},
    }
    manifests = []
    for name, seed in (("one", 11), ("two", 11), ("other", 12)):
        run_workflow(tmp_path / name, {**config, "seed": seed}, "manifest")
        manifests.append(pd.read_csv(tmp_path / name / "results" / "manifest.csv"))
    one, two, other = manifests
    assert set(one["path"]) >= {str(H5), "results/datasets/summary.csv"}
    pd.testing.assert_frame_equal(one, two)  # byte-identical data artifacts
    differs = one.merge(other, on="path", suffixes=("", "_other"))
    seeded = differs[differs["path"].str.startswith("results/datasets/")]  # particles take no seed
    assert len(seeded) and (seeded["sha256"] != seeded["sha256_other"]).all()
    for row in one.itertuples():
        assert row.sha256 == sha256_of(tmp_path / "one" / row.path)
    with h5py.File(tmp_path / "one" / H5) as a, h5py.File(tmp_path / "two" / H5) as b:
        assert (a["r/a"][()] == b["r/a"][()]).all()


CORRUPTIBLE = {
    **BIG,
    "datasets": {"arrays": [{"name": "r/a", "low": 0, "high": 10**6, "size": 200_000}], "slice": [0, 5]},
}


def truncate(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def overwrite_middle(path: Path) -> None:
    """Garbage over a stretch of the data: the file still opens, the values are wrong."""
    with open(path, "r+b") as handle:
        handle.seek(path.stat().st_size // 2)
        handle.write(os.urandom(4096))


@pytest.mark.parametrize("corrupt", [truncate, overwrite_middle], ids=["truncated", "garbage"])
def test_corrupted_input_between_stages_is_a_clear_error(tmp_path, corrupt):
    run_workflow(tmp_path, CORRUPTIBLE, "datasets_listing")
    corrupt(tmp_path / H5)
    time.sleep(0.01)  # a newer mtime: the listing job reruns on the corrupted file
    failed = run_workflow(tmp_path, CORRUPTIBLE, "datasets_listing", check=False)
    assert failed.returncode != 0
    out = failed.stdout + failed.stderr
    assert "Error in rule datasets_listing" in out  # the reader failed...
    assert "rule datasets:" not in out  # ...the writer did not rerun over the evidence
    log = (tmp_path / "logs" / "datasets_listing.log").read_text()
    assert f"could not read {H5}" in log, log
    assert "Segmentation fault" not in failed.stdout + failed.stderr + log
    assert not (tmp_path / "results" / "datasets" / "summary.csv").exists()  # no wrong answer kept


def test_garbage_in_the_data_is_caught_by_the_checksums(tmp_path):
    path = tmp_path / "random.h5"
    h5_datasets.write_datasets(path, CORRUPTIBLE["datasets"]["arrays"], seed=1)
    overwrite_middle(path)
    with pytest.raises(
        InputReadError, match=r"could not read .*random\.h5.*(checksum|data error|filter returned failure)"
    ):
        h5_datasets.summarize(path)
