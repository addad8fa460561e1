"""The bound of a figure computed by workers on several nodes (engine dask_distributed).

Each node's limits were measured on that node (`outofcore.hugearray.node_probe`). Nodes
that report the same machine (kernel boot id: two slurmd on one host, containers) share
its disk, memory and cores: such a machine is counted once, at the largest of its
nodes' bounds (each node was measured alone, so each saw the whole machine), over the
threads of all the workers on it; a reference only if a cache served any of its nodes'
reads (they read the same disk). Distinct machines add up: the bound is the sum over
machines of min(read x compression ratio, memory copy over the machine's worker
threads), the same per-machine bound a one-node figure gets.

What it does not see: distinct machines reading one file server (NFS, Lustre) may get
less, together, than the sum of what each got alone. The sum is then loose, never too
low: a figure cannot exceed it. A node whose limits nobody measured, or an unknown
thread count, makes the figure a reference only.
"""

import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from outofcore.limits.node import NodeLimits

Bound = tuple[str, float, str]  # label, value, yes | reference


def worker_nodes(item: Any) -> dict[str, int]:
    """{node: worker threads on it} of a row's `nodes` ("n1:2;n2:2"); {} for none."""
    text = getattr(item, "nodes", "")
    if not isinstance(text, str) or not text.strip():
        return {}
    found: dict[str, int] = {}
    for part in text.split(";"):
        node, _, threads = part.rpartition(":")
        found[node] = int(threads)
    return found


def across_nodes(
    item: Any, known: dict[str, NodeLimits], bound_of: Callable[[Any, NodeLimits], Bound]
) -> tuple[str, float, str, str]:
    """(label, value, yes | reference, flag) of a figure whose workers ran on `item.nodes`:
    `bound_of(row, node)` is the one-node bound, summed here over the machines."""
    nodes = worker_nodes(item)
    unmeasured = sorted(node for node in nodes if node not in known or not node)
    if unmeasured or 0 in nodes.values():
        label, value, _ = bound_of(item, known[""])
        why = (f"workers on {', '.join(unmeasured)}, whose limits nobody measured" if unmeasured
               else "the workers' threads are unknown")  # fmt: skip
        return label, value, "reference", f"{why}: the job's node's limit, a reference only"
    machines: dict[str, list[str]] = defaultdict(list)
    for node in sorted(nodes):
        machines[known[node].machine or f"node {node}"].append(node)
    total, bound, labels = 0.0, "yes", []
    for members in machines.values():
        threads = sum(nodes[node] for node in members)
        bounds = [bound_of(item._replace(threads=threads), known[node]) for node in members]
        best = max(bounds, key=lambda b: b[1])
        total += best[1]
        if any(b[2] == "reference" for b in bounds):  # a cache served one node's read of the shared disk
            bound = "reference"
        labels.append(best[0])
    names = [", ".join(members) for members in machines.values()]
    if len(machines) == 1:
        shared = f"one machine: nodes {names[0]} share its disk, memory and cores, counted once"
        if len(nodes) > 1:
            label = f"{labels[0]} ({shared})"
        else:  # one node: named unless it is the limits job's
            label = labels[0] if known[names[0]] is known[""] else f"{labels[0]} on {names[0]}"
    else:
        label = f"sum over {len(machines)} machines ({'; '.join(names)}) of each one's {labels[0]}"
    return label, total if math.isfinite(total) else math.nan, bound, ""
