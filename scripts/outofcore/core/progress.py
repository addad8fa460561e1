"""Progress in the job's log: every phase logs its start and end; a long one, every 10 s,
how much is done, the rate and the time left.

A background thread writes the status line, so a phase made of a few long calls (an
index build, a pandas read) still shows it is alive. Snakemake's own per-job progress
is left as it is: this is the progress inside one job.
"""

import threading
import time
from types import TracebackType
from typing import Any

EVERY = 10.0  # seconds between two status lines of a phase, at most


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


class Progress:
    """A phase of a job: `with Progress(log, "index build", total=3, unit="samples") as p:`
    then `p.advance()` after each unit of work."""

    def __init__(self, log: Any, what: str, total: float = 0, unit: str = "", every: float = EVERY) -> None:
        self.log, self.what, self.total, self.unit, self.every = log, what, total, unit, every
        self.done = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._report, name=f"progress {what}", daemon=True)
        self.start = time.monotonic()

    def __enter__(self) -> "Progress":
        amount = f" ({self.total:,.0f} {self.unit})" if self.total else ""
        self.log.info("%s: start%s", self.what, amount)
        self.start = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:  # fmt: skip
        self._stop.set()
        self._thread.join()
        elapsed = time.monotonic() - self.start
        if kind is None:
            self.log.info("%s: done in %s", self.what, _duration(elapsed))
        else:
            self.log.info("%s: failed after %s", self.what, _duration(elapsed))

    def advance(self, amount: float = 1) -> None:
        self.done += amount

    def status(self) -> str:
        """done/total, rate and time left, as far as they are known."""
        elapsed = time.monotonic() - self.start
        if not self.total:
            return f"{self.what}: running for {_duration(elapsed)}"
        text = f"{self.what}: {self.done:,.0f}/{self.total:,.0f} {self.unit} after {_duration(elapsed)}"
        if self.done <= 0:
            return text + ", time left unknown yet"
        rate = self.done / elapsed
        left = (self.total - self.done) / rate
        return text + f", {rate:,.3g} {self.unit}/s, about {_duration(left)} left"

    def _report(self) -> None:
        while not self._stop.wait(self.every):
            self.log.info("%s", self.status())
