"""Rule `hugearray`: an on-disk array larger than memory: built block by block, reduced out of core."""

from typing import Any

from outofcore.hugearray import HugeArrayJob, run, write_measurement
from outofcore.io_utils import log_to


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    measurement, stats, exact = run(HugeArrayJob.from_snakemake(smk), log)
    log.info("out-of-core statistics:\n%s", stats.table().to_string())
    log.info("exact statistics of the generated integers:\n%s", exact.table().to_string())
    log.info("measurement: %s", measurement)
    if measurement.check != "ok":  # a wrong result is not a measurement: the job fails
        log.error("out-of-core statistics differ from the exact ones: check = %s", measurement.check)
        raise SystemExit(
            f"{measurement.backend} with engine {measurement.engine}: the out-of-core statistics "
            f"differ from the exact ones (check = {measurement.check})"
        )
    write_measurement(measurement, smk.output.table)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
