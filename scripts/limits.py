"""Rule `limits`: the machine's own limits, measured in the same run as the stages they bound."""

import time
from pathlib import Path
from typing import Any

from outofcore.exclusive import timed_job
from outofcore.io_utils import log_to
from outofcore.machine_limits import measure_limits
from outofcore.tables import write_table


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    with timed_job("limits", log):  # no other timed job on this machine meanwhile, in any run
        start = time.perf_counter()
        frame = measure_limits(
            Path(smk.output.csv).parent, smk.params.memcpy_mb, smk.params.disk_mb, smk.params.repeats
        )
        log.info("limits measured in %.1f s:\n%s", time.perf_counter() - start, frame.to_string(index=False))
        write_table(frame, smk.output.csv, smk.output.html, "Machine limits and library versions")


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
