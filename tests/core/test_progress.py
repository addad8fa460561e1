"""Progress in the job logs: phases start and end; long ones report every few seconds."""

import logging
import time

from outofcore.core.progress import Progress
from outofcore.particles.bench import timed


def test_a_phase_logs_start_status_and_end(caplog):
    log = logging.getLogger("test-progress")
    progress = Progress(log, "write", total=4, unit="blocks", every=0.05)
    with caplog.at_level(logging.INFO, logger="test-progress"), progress:
        progress.advance()
        time.sleep(0.3)
        progress.advance(3)
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0] == "write: start (4 blocks)"
    assert lines[-1].startswith("write: done in ")
    status = lines[1:-1]
    assert status and "1/4 blocks" in status[0] and "blocks/s" in status[0] and "left" in status[0]


def test_timed_measurement_logs_its_samples(caplog):
    with caplog.at_level(logging.INFO, logger="stage"):
        timing = timed(None, "sleep", lambda: time.sleep(0.01), repeats=2, min_time=0)
    assert timing.repeats == 2
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0] == "sleep: start (2 samples)" and lines[-1].startswith("sleep: done in")
