"""Jobs that declare more memory or disk than the machine (or its cgroup) has are refused
before any job starts, naming the config key that sizes them."""

from pathlib import Path

import pytest

from conftest import run_workflow
from outofcore.plan import machine_fit
from outofcore.plan.machine_fit import MachineTooSmall, cgroup_limits, check_fits, memory_mb
from support import DEFAULT, with_change

SIX_GIB = (6144, "the memory limit of the workflow's cgroup")


@pytest.mark.parametrize(
    ("path", "value", "key", "needs"),
    [
        ("limits.memcpy_mb", 8192, "limits.memcpy_mb", "the limits job needs 16,700 MiB of memory"),
        ("particles.rows", [10**6, 2 * 10**8], "particles.rows[1]", "76,793 MiB"),
        ("blosc.sizes", [10**9], "blosc.sizes", "the blosc_sweep job needs"),
        ("hugearray.block_mb", 4096, "hugearray.block_mb", "the hugearray job needs"),
    ],
)
def test_memory_beyond_the_cgroup_is_refused_naming_the_key(path, value, key, needs):
    config = with_change(path, value)
    with pytest.raises(MachineTooSmall) as error:
        check_fits(config, SIX_GIB, None)
    assert error.value.key == key and needs in str(error.value)
    assert "cgroup (6,144 MiB)" in str(error.value) and "\n" not in str(error.value)


def test_disk_beyond_the_free_space_is_refused_naming_the_key():
    config = with_change("hugearray.sizes_mb", [64, 100_000])
    with pytest.raises(MachineTooSmall, match=r"hugearray\.sizes_mb\[1\] = 100000: .* 101,016 MiB of disk"):
        check_fits(config, None, 50_000)
    check_fits(DEFAULT, SIX_GIB, 50_000)  # the default run fits a small machine


def test_cgroup_limits_v1_and_v2(tmp_path):
    proc = tmp_path / "cgroup"
    proc.write_text("4:memory:/slice/job\n0::/user/app\n")
    (tmp_path / "sys/memory/slice/job").mkdir(parents=True)
    (tmp_path / "sys/memory/slice/job/memory.limit_in_bytes").write_text(f"{6 << 30}\n")
    (tmp_path / "sys/memory/memory.limit_in_bytes").write_text("9223372036854771712\n")  # no limit
    (tmp_path / "sys/user/app").mkdir(parents=True)
    (tmp_path / "sys/user/app/memory.max").write_text("max\n")
    (tmp_path / "sys/user/memory.max").write_text(f"{3 << 30}\n")  # a parent's limit counts
    assert sorted(cgroup_limits(proc, tmp_path / "sys")) == [3 << 30, 6 << 30]
    assert cgroup_limits(tmp_path / "absent", tmp_path) == []


def test_this_machine_is_measured():
    found = memory_mb()
    assert found is not None and found[0] > 0
    assert machine_fit.disk_mb(Path("results/not/yet")) > 0


def test_a_job_larger_than_the_machine_is_refused_before_any_job_runs(tmp_path):
    machine = memory_mb()[0]
    rows = (machine + 1000) * 2**20 // 400  # particles_mem_mb: 400 bytes a row
    planned = run_workflow(tmp_path, {"particles": {"rows": [rows]}}, "--dry-run")
    assert "particles.rows[0]" not in planned.stdout + planned.stderr  # a dry run only plans
    run = run_workflow(tmp_path, {"particles": {"rows": [rows]}}, check=False)
    assert run.returncode != 0
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("config error")]
    assert lines == [lines[0]] and lines[0].startswith(f"config error: particles.rows[0] = {rows}: ")
    assert "MiB of memory, more than" in lines[0]
    assert not (tmp_path / "results").exists() and not (tmp_path / "logs").exists()


def test_only_the_jobs_a_run_starts_are_held_to_the_machine():
    config = with_change("particles.rows", [100, 10**8])  # its particle job needs 38 GiB
    with pytest.raises(MachineTooSmall, match=r"particles\.rows\[1\]"):
        check_fits(config, (24_000, "the machine's memory"), None)
    check_fits(config, (24_000, "the machine's memory"), None, rules={"limits", "blosc_sweep"})
    with pytest.raises(MachineTooSmall, match=r"hugearray\.sizes_mb"):
        check_fits(DEFAULT, None, 10, rules={"hugearray_memmap"})  # every store's rule sizes its disk
