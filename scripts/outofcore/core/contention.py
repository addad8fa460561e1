"""How busy other processes kept the machine while a timed job ran.

The timing lock keeps the workflow's own timed jobs apart, but not the rest of the
machine: a benchmark's log states how much CPU everything else used meanwhile, so a
reader can tell a slow codec from a busy machine.
"""

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psutil

BUSY = 0.1  # others kept more than this share of the cores busy: a figure measured on a shared machine


@dataclass
class Contention:
    seconds: float = 0.0  # wall time of the block
    others: float = 0.0  # share of all cores other processes kept busy (0 to 1)
    steal: float = 0.0  # share of all cores the hypervisor gave to other machines

    def __str__(self) -> str:
        cores = psutil.cpu_count()
        return (
            f"other processes kept {self.others:.0%} of the {cores} cores busy over "
            f"{self.seconds:.1f} s (hypervisor steal {self.steal:.0%})"
        )


def busy_seconds(times) -> float:
    return times.user + times.nice + times.system + times.irq + times.softirq


@contextmanager
def watch() -> Iterator[Contention]:
    """Yields a Contention filled in when the block ends."""
    result = Contention()
    me = psutil.Process(os.getpid())
    machine0, own0, start = psutil.cpu_times(), me.cpu_times(), time.perf_counter()
    try:
        yield result
    finally:
        machine1, own1 = psutil.cpu_times(), me.cpu_times()
        result.seconds = time.perf_counter() - start
        capacity = result.seconds * psutil.cpu_count()
        own = (own1.user - own0.user) + (own1.system - own0.system)
        others = busy_seconds(machine1) - busy_seconds(machine0) - own
        # the kernel counts in ticks (10 ms): clamp the rounding of short blocks to [0, 1]
        result.others = min(1.0, max(0.0, others) / capacity)
        result.steal = min(1.0, max(0.0, machine1.steal - machine0.steal) / capacity)


LOGGED = re.compile(
    r"other processes kept (\d+)% of the (\d+) cores busy over ([\d.]+) s \(hypervisor steal (\d+)%\)"
)


def from_logs(log_dir: str | Path) -> pd.DataFrame:
    """What the timed jobs' logs say of the machine: job, others_busy, steal, seconds, cores."""
    rows = []
    for path in sorted(Path(log_dir).glob("*.log")):
        for match in LOGGED.finditer(path.read_text(errors="replace")):
            others, cores, seconds, steal = match.groups()
            rows.append(
                {
                    "job": path.stem,
                    "others_busy": int(others) / 100,
                    "steal": int(steal) / 100,
                    "seconds": float(seconds),
                    "cores": int(cores),
                }
            )
    return pd.DataFrame(rows, columns=["job", "others_busy", "steal", "seconds", "cores"])
