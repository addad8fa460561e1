"""Refuse, before any job starts, a config whose jobs declare more memory or disk than
this machine has: the job would be killed by the kernel's OOM killer (no message) or stop
on a full disk, after the jobs before it ran. Standard library only.

Memory is the smallest of the machine's (`/proc/meminfo` MemTotal) and the limit of the
control group the workflow runs in (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`):
a container or a systemd slice may allow far less than the machine holds. Disk is the
free space of the file system `results/` is on. Each job's request is what its rule
declares (`outofcore.plan.sizing`, the same functions), so the refusal names the config
key that sets it. Runs only when jobs run on this machine: a cluster node has its own.
"""

import shutil
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from outofcore.plan import sizing

UNLIMITED = 1 << 60  # cgroup v1 writes "no limit" as a number near 2**63


class MachineTooSmall(ValueError):
    """A job would need more than the machine has; `key`, `value`, `reason` as a config error."""

    def __init__(self, key: str, value: Any, reason: str) -> None:
        self.key, self.value, self.reason = key, value, reason
        super().__init__(f"config error: {key} = {value!r}: {reason}")


def read_number(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max" (cgroup v2): no limit


def cgroup_limits(proc: Path = Path("/proc/self/cgroup"), root: Path = Path("/sys/fs/cgroup")) -> list[int]:
    """Memory limits (bytes) of this process's cgroup and its parents, v2 and v1."""
    found: list[int] = []
    try:
        lines = proc.read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        _, controllers, place = line.split(":", 2)
        if controllers == "":  # v2: one hierarchy
            base, name = root, "memory.max"
        elif "memory" in controllers.split(","):
            base, name = root / "memory", "memory.limit_in_bytes"
        else:
            continue
        folder = base / place.lstrip("/")
        for level in [folder, *folder.parents]:
            if level == base.parent:
                break
            value = read_number(level / name)
            if value is not None and value < UNLIMITED:
                found.append(value)
    return found


def memory_mb(meminfo: Path = Path("/proc/meminfo")) -> tuple[int, str] | None:
    """(MiB, where it comes from) of the memory jobs here may use, None if unknown."""
    limits: list[tuple[int, str]] = []
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                limits.append((int(line.split()[1]) // 1024, "the machine's memory"))
    except OSError:
        pass
    limits += [(value >> 20, "the memory limit of the workflow's cgroup") for value in cgroup_limits()]
    return min(limits) if limits else None


def disk_mb(results: str | Path = "results") -> int:
    """Free MiB of the file system that holds (or will hold) `results`."""
    place = Path(results).absolute()
    while not place.exists():
        place = place.parent
    return shutil.disk_usage(place).free >> 20


def requests(config: Mapping[str, Any]) -> Iterator[tuple[str, Any, str, int, int]]:
    """(key, value, job, memory MiB, disk MiB) of every job the config sizes."""
    limits = config["limits"]
    yield "limits.memcpy_mb", limits["memcpy_mb"], "limits", sizing.limits_mem_mb(limits["memcpy_mb"]), 0
    yield "limits.disk_mb", limits["disk_mb"], "limits", 0, limits["disk_mb"]
    for i, rows in enumerate(config["particles"]["rows"]):
        mem, disk = sizing.particles_mem_mb(rows), sizing.particles_disk_mb(rows)
        yield f"particles.rows[{i}]", rows, f"particles {rows}", mem, disk
    arrays = config["datasets"]["arrays"]
    largest = max(range(len(arrays)), key=lambda i: arrays[i]["size"])
    yield (
        f"datasets.arrays[{largest}].size",
        arrays[largest]["size"],
        "datasets",
        sizing.datasets_mem_mb(arrays),
        sizing.datasets_disk_mb(arrays),
    )
    sizes = config["blosc"]["sizes"]
    methods = config["blosc"].get("methods") or ["pack_array"]
    mem = max(sizing.blosc_sweep_mem_mb(sizes, method) for method in methods)
    yield "blosc.sizes", sizes, "blosc_sweep", mem, 0
    huge = config["hugearray"]
    own = huge.get("data", ["uniform_int16"]) == ["uniform_int16"]
    mem = max(
        sizing.hugearray_mem_mb(huge["threads"], huge["block_mb"], huge["chunk_kb"], backend, engine, own)
        for backend in huge["backends"]
        for engine in huge["engines"]
    )
    yield "hugearray.block_mb", huge["block_mb"], "hugearray", mem, 0
    for i, size_mb in enumerate(huge["sizes_mb"]):
        disk = sizing.hugearray_disk_mb(size_mb)
        yield f"hugearray.sizes_mb[{i}]", size_mb, f"hugearray {size_mb} MiB", 0, disk


def will_run(job: str, rules: Collection[str] | None) -> bool:
    """Whether the job a request sizes is among `rules` (the rules of the jobs this run
    will start; None: every job). `hugearray` stands for every store's rule."""
    if rules is None:
        return True
    rule = job.split()[0]
    return rule in rules or (
        rule == "hugearray" and any(r.startswith("hugearray_") and r != "hugearray_plots" for r in rules)
    )


def check_fits(
    config: Mapping[str, Any],
    memory: tuple[int, str] | None,
    free_disk_mb: int | None,
    rules: Collection[str] | None = None,
) -> None:
    """Raise MachineTooSmall for the first job (of `rules`, None: of any rule) that
    declares more than `memory` (MiB, and where it comes from) or `free_disk_mb`; None:
    not checked."""
    for key, value, job, mem, disk in requests(config):
        if not will_run(job, rules):
            continue
        if memory is not None and mem > memory[0]:
            reason = f"the {job} job needs {mem:,} MiB of memory, more than {memory[1]} ({memory[0]:,} MiB)"
            raise MachineTooSmall(key, value, reason)
        if free_disk_mb is not None and disk > free_disk_mb:
            reason = f"the {job} job needs {disk:,} MiB of disk, more than the {free_disk_mb:,} MiB free"
            raise MachineTooSmall(key, value, reason)


def check_machine(
    config: Mapping[str, Any], results: str | Path = "results", rules: Collection[str] | None = None
) -> None:
    """`check_fits` against this machine (memory, cgroup, free disk under `results`)."""
    check_fits(config, memory_mb(), disk_mb(results), rules)
