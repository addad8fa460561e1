"""The limits of each node the dask_distributed workers ran on, measured on that node.

A reduce across nodes is bounded by what each node can read, summed over the nodes; a
figure read against the job's own node alone would be held to the wrong ceiling. So,
once the workers are up (before their memory cap and off the reduce's clock), one
worker on each node not measured yet measures its node's limits with the limits job's
probes (`outofcore.limits.node.node_rows`): memory over 1 thread, over the node's
worker threads and over all worker threads of its machine; the disk where the stores
are; and the machine it is (the kernel's boot id). One node at a time, so that each is
measured alone. The summary then sums the limits over the machines (nodes on one
machine share its disk, memory and cores: counted once; `outofcore.summary.across`).
"""

import io
import json
import os
import socket
import subprocess
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from outofcore.limits.machine import this_machine
from outofcore.limits.node import COLUMNS, node_rows


@dataclass(frozen=True)
class NodeProbe:
    """What each worker node measures, and the nodes already measured."""

    directory: str  # where the stores are: the disk the workers read
    memcpy_mb: int
    disk_mb: int
    repeats: int
    known: frozenset[str] = frozenset()  # the job's node, the limits job's node

    @classmethod
    def of(
        cls, directory: str | Path, limits: dict[str, Any], known: set[str], worker_mb: int
    ) -> "NodeProbe":
        """From the `limits` config; the memory probe holds two arrays of memcpy_mb: at
        most a quarter of the worker's memory."""
        memcpy_mb = max(8, min(int(limits["memcpy_mb"]), worker_mb // 4))
        disk_mb, repeats = int(limits["disk_mb"]), int(limits["repeats"])
        return cls(str(directory), memcpy_mb, disk_mb, repeats, frozenset(known))


def worker_node() -> str:
    """This worker's node: SLURM's name for it, else the host name."""
    return os.environ.get("SLURMD_NODENAME") or socket.gethostname()


def worker_place() -> tuple[str, str]:
    """(node, machine) of this worker (run on every worker by the client)."""
    return worker_node(), this_machine()


def measure_node(probe: NodeProbe, threads: list[int]) -> pd.DataFrame:
    """A task: the limits of the node this worker runs on, measured by a fresh process (as
    the limits job measures them: no worker threads, no dask profiler holding frames,
    which made the mmap probe's buffer outlive its read now and then)."""
    scripts = str(Path(__file__).parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [scripts, os.environ.get("PYTHONPATH")]))}
    asked = json.dumps({**asdict(probe), "known": [], "threads": threads, "host": worker_node()})
    done = subprocess.run([sys.executable, "-m", "outofcore.hugearray.node_probe", asked], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(
            f"the limits probe on node {worker_node()} failed (exit {done.returncode}): {last}"
        )
    return pd.read_csv(io.StringIO(done.stdout), dtype={"host": str})


def probe_plan(places: dict[str, tuple[str, str]], nthreads: dict[str, int], known: frozenset[str]):
    """[(worker address, thread counts)]: one worker per node not in `known`, with the
    threads of the workers on its node and of all workers on its machine."""
    on_node: dict[str, int] = defaultdict(int)
    on_machine: dict[str, int] = defaultdict(int)
    for address, (node, machine) in places.items():
        on_node[node] += nthreads[address]
        on_machine[machine or node] += nthreads[address]
    plan = []
    for node in sorted(set(on_node) - known):
        address = min(a for a, (n, _) in places.items() if n == node)
        machine = places[address][1] or node
        plan.append((address, sorted({1, on_node[node], on_machine[machine]})))
    return plan


def probe_nodes(client: Any, probe: NodeProbe) -> pd.DataFrame:
    """Each unmeasured worker node's limits (`host,name,value,unit,how`), one node at a time."""
    plan = probe_plan(client.run(worker_place), client.nthreads(), probe.known)
    frames = []
    for address, threads in plan:  # waited for one by one: each node measured alone
        task = client.submit(measure_node, probe, threads, workers=[address], allow_other_workers=False,
                             pure=False)  # fmt: skip
        frames.append(task.result())
    return pd.concat(frames, ignore_index=True)[COLUMNS] if frames else pd.DataFrame(columns=COLUMNS)


if __name__ == "__main__":  # the probe's process (`measure_node`): the node's limits as CSV on stdout
    asked = json.loads(sys.argv[1])
    sizes = [asked[key] for key in ("memcpy_mb", "disk_mb", "repeats")]
    frame = node_rows(asked["host"], asked["directory"], *sizes, asked["threads"])
    frame.to_csv(sys.stdout, index=False)
