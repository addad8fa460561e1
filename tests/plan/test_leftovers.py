"""Leftovers of killed jobs, full disks and two runs sharing a directory (real runs).

A killed job's partial is removed when the next run starts, even if that run never
reruns the job; a dry run and a running job's partials are left alone; a full disk is an
error naming the file (the disk probe, the memmap store) with nothing left behind; timed
jobs of two runs in one directory never overlap.
"""

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from conftest import REPO, load_config, run_workflow, workflow_command
from outofcore.core import exclusive
from outofcore.core.files import OutputWriteError
from outofcore.hugearray.job import HugeArrayJob, write_array
from outofcore.limits import disk as disk_limits
from outofcore.plan.leftovers import owner, stale_leftovers
from outofcore.plan.units import MiB
from outofcore.summary.manifest import sha256_of

HOST = socket.gethostname()
BIG = load_config("faults_big.yaml")
SMALL = {"seed": 3, "limits": {"memcpy_mb": 16, "disk_mb": 8, "repeats": 1}}


def dead_pid() -> int:
    """The pid of a process that has ended (not reused this soon)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def hidden(workdir: Path) -> list[str]:
    results = workdir / "results"
    return sorted(str(p.relative_to(results)) for p in results.rglob(".*") if owner(p.name))


def test_scratch_names_are_parsed():
    assert owner(f".random.h5.partial-{HOST}-12") == (HOST, 12)
    assert owner(".random.h5.partial-a-b-c-7") == ("a-b-c", 7)
    assert owner(".bandwidth-probe-node1-99") == ("node1", 99)
    assert owner(".random.h5.partial-34") == (HOST, 34)  # an older version's name
    for name in ("random.h5", ".timing-lock-x", ".partial-3", ".x.partial-y"):
        assert owner(name) is None


def test_killed_job_partial_is_removed_when_the_next_run_starts(tmp_path):
    """SIGKILL of the whole run while it writes; the config then changes: the next run
    (another target, the killed job never rerun) removes the partial under its lock."""
    run = subprocess.Popen(
        workflow_command(tmp_path, BIG, "results/datasets/random.h5"),
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    folder = tmp_path / "results" / "datasets"
    while not (folder.exists() and list(folder.glob(".random.h5.partial-*"))):
        assert run.poll() is None, "the run ended before its output was being written"
        time.sleep(0.01)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=60)
    killed = hidden(tmp_path)
    assert len(killed) == 1 and killed[0].startswith(f"datasets/.random.h5.partial-{HOST}-")

    alive = tmp_path / "results" / "hugearray" / "2" / f".tables.h5.partial-{HOST}-{os.getpid()}"
    alive.parent.mkdir(parents=True)
    alive.write_bytes(b"a running writer's")  # this test's own pid: a live process
    probe = tmp_path / "results" / f".bandwidth-probe-{HOST}-{dead_pid()}"
    probe.write_bytes(b"x" * 1000)
    other_host = tmp_path / "results" / ".blosc.csv.partial-elsewhere-1"
    other_host.write_bytes(b"a cluster node's")

    run_workflow(tmp_path, SMALL, "results/limits.csv", "--dry-run")
    assert len(hidden(tmp_path)) == 4  # a dry run removes nothing

    done = run_workflow(tmp_path, SMALL, "results/limits.csv")
    assert f"removed results/{killed[0]}: left by a killed job" in done.stderr
    assert hidden(tmp_path) == [".blosc.csv.partial-elsewhere-1", f"hugearray/2/{alive.name}"]


def test_onstart_cleanup_skips_without_lock(tmp_path):
    stale = tmp_path / "results" / f".summary.csv.partial-{HOST}-{dead_pid()}"
    stale.parent.mkdir(parents=True)
    stale.write_text("x")
    assert stale_leftovers(tmp_path / "results") == [stale]
    run_workflow(tmp_path, SMALL, "results/limits.csv", "--nolock")
    assert stale.exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MiB tmpfs: a disk that fills (needs root to mount)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_full_disk_errors_name_the_file_and_leave_nothing(small_disk):
    with pytest.raises(
        OutputWriteError, match=r"not enough free disk space for the disk probe .*\.bandwidth-probe-"
    ):
        disk_limits.disk_gbps(small_disk, 128 * MiB, repeats=1)

    # the memmap store larger than the disk, the free-space check passed (another job
    # filled the disk since): the file is allocated whole first, so ENOSPC, not SIGBUS
    job = HugeArrayJob(
        small_disk / "memmap.npy", "memmap", size_mb=100, columns=2, block_mb=1, chunk_kb=64,
        compression="none", seed=1,
    )  # fmt: skip
    with pytest.raises(OutputWriteError, match=r"could not write .*memmap\.npy: OSError: \[Errno 28\]"):
        write_array(job)
    assert list(small_disk.iterdir()) == []


def test_limits_job_on_a_full_disk_is_refused_before_it_starts(small_disk):
    """The disk probe would not fit: refused naming the key before the job starts (the
    job's own check of the free space stays behind it, for runs on other nodes)."""
    config = {**SMALL, "limits": {"memcpy_mb": 16, "disk_mb": 128, "repeats": 1}}
    proc = run_workflow(small_disk, config, "results/limits.csv", check=False)
    assert proc.returncode != 0
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("config error")]
    assert lines and lines[0].startswith(
        "config error: limits.disk_mb = 128: the limits job needs 128 MiB of disk"
    )
    assert not (small_disk / "logs" / "limits.log").exists()  # it never started
    assert hidden(small_disk) == []


def lock_intervals(log: Path) -> tuple[datetime, datetime, bool]:
    """(taken, released, waited) of the timing lock, from the job log's timestamps."""
    times, waited = {}, False
    for line in log.read_text().splitlines():
        waited = waited or "waiting for the timing lock" in line
        for event in (" taken: ", " released: "):
            if "timing lock" in line and event in line:
                times[event] = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
    return times[" taken: "], times[" released: "], waited


def test_timed_jobs_of_two_runs_never_overlap(tmp_path):
    """Two runs in one directory with disjoint targets both run, but their timed jobs
    take turns: the lock is held here until both wait, then each times alone."""
    config = {
        **load_config("tiny.yaml"),
        "blosc": {**load_config("tiny.yaml")["blosc"], "methods": ["compress_ptr"]},
    }
    targets = ["results/limits.csv", "results/blosc/parts/linspace/compress_ptr/lz4.csv"]
    logs = [tmp_path / "logs" / "limits.log", tmp_path / "logs" / "blosc_sweep_linspace_compress_ptr_lz4.log"]
    (tmp_path / "results").mkdir(parents=True)
    held = os.open(exclusive.lock_path(tmp_path / "results"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX)
    runs = []
    try:
        for target in targets:
            cmd = workflow_command(tmp_path, config, target)
            runs.append(
                subprocess.Popen(
                    cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
                )
            )
        deadline = time.monotonic() + 300
        while not all(log.exists() and "waiting for the timing lock" in log.read_text() for log in logs):
            if any(run.poll() is not None for run in runs) or time.monotonic() > deadline:
                for run in runs:
                    run.kill()  # never wait on a run that waits on the lock held here
                pytest.fail("a run ended or stalled before its timed job waited for the lock:\n"
                            + "\n".join(run.communicate()[0] for run in runs))  # fmt: skip
            time.sleep(0.05)
    finally:
        os.close(held)  # releases: one run times, then the other
    for run in runs:
        output, _ = run.communicate(timeout=300)
        assert run.returncode == 0, output
    (a_start, a_end, a_waited), (b_start, b_end, b_waited) = (lock_intervals(log) for log in logs)
    assert a_waited and b_waited
    assert a_end <= b_start or b_end <= a_start, (a_start, a_end, b_start, b_end)


def make_run(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`make run` of the repository's Makefile, in `workdir`, with the shared virtualenv."""
    bin_dir = Path(sys.executable).parent
    snakemake_args = " ".join(
        ["-s", str(REPO / "Snakefile"), "--configfile", str(REPO / "config/config.yaml"), *args]
    )
    cmd = ["make", "-f", str(REPO / "Makefile"), "-o", f"{bin_dir}/.installed", "run"]
    cmd += [f"BIN={bin_dir}", f"ARGS={snakemake_args}"]
    return subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=300)


def test_report_on_a_full_disk_keeps_the_previous_report(small_disk):
    config = small_disk / "config.yaml"
    config.write_text(yaml.safe_dump(SMALL))
    args = ("--configfile", str(REPO / "config/config.yaml"), str(config), "--cores", "1")
    args += ("results/limits.csv",)
    first = make_run(small_disk, *args)
    assert first.returncode == 0, first.stdout + first.stderr
    report = small_disk / "results" / "report.html"
    before = sha256_of(report)

    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * (free - (256 << 10)))  # 256 KiB left: no room for a report
    failed = make_run(small_disk, *args)
    assert failed.returncode != 0
    assert sha256_of(report) == before  # the earlier report is whole

    (small_disk / "filler").unlink()
    again = make_run(small_disk, *args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert not (small_disk / "results" / ".report.partial.html").exists()
