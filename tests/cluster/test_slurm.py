"""The workflow on a real one-node SLURM cluster, through the profile users run.

tests/cluster/slurm.sh brings the cluster up (installing SLURM with apt-get if needed)
once for this module and down at its end, even when a test fails. Checked: the artifacts
equal those of a local run, the jobs really went through sbatch, a job failing on the
cluster fails the run with its SLURM log shown, and an unreachable controller fails the
run with a clear message in bounded time. Skipped only where the script cannot run (not
root, not Linux, no apt-get), and never in CI (CI=true): there it fails instead.
"""

import atexit
import fcntl
import os
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, SNAKEMAKE, load_config, run_workflow
from outofcore.datasets.named_arrays import iter_datasets

CLUSTER_SCRIPT = REPO / "tests" / "cluster" / "slurm.sh"
FAILING_WORKFLOW = REPO / "tests" / "cluster" / "failing.smk"
PROFILE = REPO / "profiles" / "slurm"
CANNOT_RUN = 3  # exit code of slurm.sh where it cannot run at all
# One test cluster per machine at a time: its ports and /run/slurm/conf are machine-wide.
LOCK = Path("/run/lock" if Path("/run/lock").is_dir() else tempfile.gettempdir()) / "ltm-slurm-test.lock"

# Test-only settings on top of the profile: first status check 1 s after submission
# (not 40 s), SLURM logs kept for the checks below, short wait for outputs (no NFS here).
TEST_OVERRIDES = (
    "--slurm-init-seconds-before-status-checks",
    "1",
    "--slurm-keep-successful-logs",
    "--latency-wait",
    "5",
)
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.")
# Upper bound for a run whose controller is unreachable: each SLURM command gives up after
# MessageTimeout (10 s by default) and the plugin makes four of them before it reports the
# error. The test's own slurm.conf sets it to UNREACHABLE_TIMEOUT_S, as a site may.
UNREACHABLE_TIMEOUT_S = 2
UNREACHABLE_BOUND_S = 120

TINY = load_config("slurm_tiny.yaml")
# Rules run both on the cluster and locally, on TINY (add each stage's rule here and its
# tiny section to TINY). Columns of timing.Timing are measurements that differ between
# any two runs: for them only the column names are compared.
TARGETS = ("datasets_listing", "results/particles/10/query.csv", "results/particles/100/query.csv")
JOBS = 4  # datasets, datasets_listing and one particles job per table size
MEASURED_COLUMNS = {
    "seconds", "seconds_min", "seconds_max", "repeats", "number", "rows_per_s",
    "spread", "stable", "others_busy",
}  # fmt: skip


@dataclass(frozen=True)
class Cluster:
    directory: Path  # slurm.conf, logs, state

    @property
    def conf(self) -> Path:
        return self.directory / "slurm.conf"

    def controller_log(self) -> str:
        return (self.directory / "slurmctld.log").read_text()


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the SLURM tests must run in CI, but the test cluster cannot: {reason}")
    pytest.skip(f"no one-node SLURM cluster here: {reason}")


def cluster_script(command: str, directory: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SLURM_TEST_DIR": str(directory)}
    return subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), command], env=env, capture_output=True, text=True, timeout=timeout
    )


def wait_for_lock(handle: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                pytest.fail(f"another test session kept the SLURM test cluster ({LOCK}) for {timeout} s")
            time.sleep(1)


@pytest.fixture(scope="module")
def slurm_cluster() -> Iterator[Cluster]:
    """The cluster, up for the tests of this module only: down before the other tests run,
    so that none of them runs beside it."""
    if not Path("/proc").is_dir() or os.name != "posix":
        skip_or_fail("not Linux")
    directory = Path(tempfile.gettempdir()) / "ltm-slurm"
    started = False

    def down() -> None:
        nonlocal started
        if not started:
            return
        started = False
        pids = [p.read_text().strip() for p in directory.glob("*.pid")]
        proc = cluster_script("down", directory, timeout=120)
        assert proc.returncode == 0, f"slurm.sh down failed:\n{proc.stdout}\n{proc.stderr}"
        assert not [pid for pid in pids if pid and running(pid)], "a test cluster daemon still runs"
        assert not Path("/run/slurm/conf").exists(), "the cluster's config link is left behind"

    # opened read-only: flock needs no write access, so a user who is not root gets as
    # far as the script's own "cannot run here" answer
    lock = os.open(LOCK, os.O_RDONLY | os.O_CREAT, 0o644)
    atexit.register(down)  # in case pytest is interrupted before the teardown below
    try:
        wait_for_lock(lock)
        started = True
        up = cluster_script("up", directory, timeout=900)
        if up.returncode == CANNOT_RUN:
            started = False  # nothing was started
            skip_or_fail(up.stderr.strip().splitlines()[-1])
        assert up.returncode == 0, f"slurm.sh up failed:\n{up.stdout}\n{up.stderr}"
        yield Cluster(directory)
    finally:
        try:
            down()
        finally:
            os.close(lock)


def running(pid: str) -> bool:
    """True while the process exists and is not a zombie (killed daemons may linger as Z)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def run_on_slurm(
    workdir: Path, *args: str, slurm_conf: Path, snakefile: Path = REPO / "Snakefile", timeout: float = 300
) -> tuple[subprocess.CompletedProcess[str], str]:
    """Snakemake with the SLURM profile; returns the process and its whole output."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [*SNAKEMAKE, "-s", str(snakefile), "--directory", str(workdir), "--profile", str(PROFILE)]
    proc = subprocess.run(
        [*cmd, *TEST_OVERRIDES, *args],
        env={**os.environ, "SLURM_CONF": str(slurm_conf)},
        capture_output=True,
        text=True,
        cwd=workdir,
        timeout=timeout,
    )
    return proc, proc.stdout + proc.stderr


def config_args(workdir: Path, config: dict) -> list[str]:
    path = workdir / "test-config.yaml"
    workdir.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    return ["--configfile", str(REPO / "config" / "config.yaml"), str(path)]


def assert_same_results(local: Path, cluster: Path) -> None:
    """Same files; same HDF5 datasets (names, dtypes, values) and same CSV tables."""
    files = sorted(p.relative_to(local) for p in local.rglob("*") if p.is_file())
    assert files, f"no results in {local}"
    assert files == sorted(p.relative_to(cluster) for p in cluster.rglob("*") if p.is_file())
    for name in files:
        if name.suffix == ".h5":
            with h5py.File(local / name, "r") as a, h5py.File(cluster / name, "r") as b:
                keys = [key for key, _ in iter_datasets(a)]
                assert keys
                for key in keys:
                    assert a[key].dtype == b[key].dtype, f"{name}:{key}"
                    np.testing.assert_array_equal(a[key][()], b[key][()], err_msg=f"{name}:{key}")
        elif name.suffix == ".csv":
            a, b = pd.read_csv(local / name), pd.read_csv(cluster / name)
            assert list(a.columns) == list(b.columns), name
            compared = [c for c in a.columns if c not in MEASURED_COLUMNS]
            pd.testing.assert_frame_equal(a[compared], b[compared], obj=str(name))


def test_every_rule_requests_threads_and_resources():
    """The scheduler gets a true request from every rule: threads, mem_mb, runtime, disk_mb."""
    rules = 0
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        blocks = re.split(r"^(?=(?:rule|checkpoint) \w+:)", path.read_text(), flags=re.M)
        for block in blocks:
            name = re.match(r"(?:rule|checkpoint) (\w+):", block)
            if not name or not re.search(r"^\s+output:", block, flags=re.M):
                continue  # text before the first rule, or a target-only rule (no job)
            rules += 1
            assert re.search(r"^\s+threads:", block, flags=re.M), f"{path.name}: {name[1]} lacks threads"
            resources = re.search(
                r"^([ \t]+)resources:[ \t]*\n((?:\1[ \t]+.*\n|[ \t]*\n)*)", block, flags=re.M
            )
            assert resources, f"{path.name}: rule {name[1]} lacks resources"
            for key in ("mem_mb", "runtime", "disk_mb"):
                assert re.search(rf"^\s+{key}=", resources[2], flags=re.M), f"{name[1]} lacks {key}"
    assert rules


def test_profile_and_cluster_config_give_cluster_sized_requests(tmp_path):
    """The profile parses, config/cluster.yaml is valid, and the requests grow with it."""
    proc = subprocess.run(
        [
            *SNAKEMAKE,
            *("-s", str(REPO / "Snakefile"), "--directory", str(tmp_path)),
            "datasets",
            *("--profile", str(PROFILE), "--dry-run"),
            *("--configfile", str(REPO / "config" / "config.yaml"), str(REPO / "config" / "cluster.yaml")),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    cluster = yaml.safe_load((REPO / "config" / "cluster.yaml").read_text())
    largest = max(a["size"] for a in cluster["datasets"]["arrays"]) * 8 // 2**20
    mem_mb = int(re.search(r"rule datasets:.*?mem_mb=(\d+)", out, flags=re.S)[1])
    assert mem_mb >= largest, out  # the largest array fits in what SLURM is asked for
    # the profile lifts the one-timing-at-a-time limit of a single machine
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    [lock] = [int(r.split("=")[1]) for r in profile["resources"] if r.startswith("timing_lock=")]
    assert lock >= profile["jobs"]


def test_workflow_on_slurm_equals_local_run(slurm_cluster, tmp_path):
    run_workflow(tmp_path / "local", TINY, *TARGETS)
    workdir = tmp_path / "slurm"
    proc, out = run_on_slurm(workdir, *TARGETS, *config_args(workdir, TINY), slurm_conf=slurm_cluster.conf)
    assert proc.returncode == 0, out

    assert_same_results(tmp_path / "local" / "results", workdir / "results")

    # every job went through sbatch: SLURM job ids, the controller saw them end well
    submitted = SUBMITTED.findall(out)
    assert len(submitted) == JOBS, out
    controller_log = slurm_cluster.controller_log()
    for job_id, slurm_log in submitted:
        assert re.search(rf"_slurm_rpc_submit_batch_job: JobId={job_id}\b", controller_log)
        assert re.search(rf"_job_complete: JobId={job_id} WEXITSTATUS 0\b", controller_log)
        state = subprocess.run(
            ["squeue", "-h", "-t", "all", "-j", job_id, "-o", "%T"],
            env={**os.environ, "SLURM_CONF": str(slurm_cluster.conf)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert state.stdout.strip() == "COMPLETED", state.stdout + state.stderr
        # inside the allocation the job ran Snakemake's SLURM job-step executor
        assert "--executor slurm-jobstep" in Path(slurm_log).read_text()


def test_failing_job_fails_the_run_with_its_slurm_log(slurm_cluster, tmp_path):
    proc, out = run_on_slurm(tmp_path, snakefile=FAILING_WORKFLOW, slurm_conf=slurm_cluster.conf)
    assert proc.returncode != 0, out
    [(job_id, slurm_log)] = SUBMITTED.findall(out)
    assert f"SLURM-job '{job_id}' failed" in out
    # the SLURM log is shown, not only named: it holds the job's stderr
    assert f"Logfile {slurm_log}:" in out
    assert "deliberate failure on the cluster" in out
    assert re.search(rf"_job_complete: JobId={job_id} WEXITSTATUS [1-9]", slurm_cluster.controller_log())
    assert not (tmp_path / "never.txt").exists()


def test_unreachable_controller_fails_clearly_in_bounded_time(slurm_cluster, tmp_path):
    """The cluster's config with the controller on a port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    conf = tmp_path / "slurm.conf"
    conf.write_text(
        re.sub(
            r"^SlurmctldPort=.*$", f"SlurmctldPort={free_port}", slurm_cluster.conf.read_text(), flags=re.M
        )
        + f"MessageTimeout={UNREACHABLE_TIMEOUT_S}\n"
    )
    workdir = tmp_path / "run"
    start = time.monotonic()
    try:
        proc, out = run_on_slurm(
            workdir, *TARGETS, *config_args(workdir, TINY), slurm_conf=conf, timeout=UNREACHABLE_BOUND_S
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"no answer after {UNREACHABLE_BOUND_S} s with the controller unreachable")
    assert proc.returncode != 0, out
    assert "Unable to contact slurm controller" in out
    assert not (workdir / "results").exists()
    print(f"unreachable controller reported after {time.monotonic() - start:.0f} s")
