"""Rule `particles`: the tutorial's step 2, the PyTables particle table filled and queried, timed."""

from pathlib import Path
from typing import Any

import numexpr

from outofcore.io_utils import atomic_output, log_to
from outofcore.particle_bench import log_ratios, run_queries, scratch_dir, time_fills, timings_frame
from outofcore.particle_queries import query_frame
from outofcore.particle_table import check_rows, filters_for
from outofcore.plan.query import parse_query
from outofcore.query_engines import to_numexpr
from outofcore.tables import write_table


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    nrows = int(smk.wildcards.rows)
    check_rows(nrows)
    query = parse_query(smk.params.query)
    filters = filters_for(smk.params.compression)
    threads = max(1, smk.threads)
    numexpr.set_num_threads(threads)
    log.info("%d rows, query %s, filters %s, %d threads", nrows, to_numexpr(query), filters, threads)
    table_path = Path(smk.output.table)
    with scratch_dir(table_path) as scratch:
        with atomic_output(table_path) as tmp:
            timings = time_fills(tmp, scratch, nrows, filters, smk.params.row_by_row_max, log)
        rows, query_timings = run_queries(table_path, scratch, query, threads, log=log)
    frame = timings_frame(timings + query_timings)
    log_ratios(frame, log)
    out = smk.output
    matching = f"Rows matching {smk.params.query} ({nrows:,} rows)"
    write_table(query_frame(rows), out.query, out.query_html, matching)
    write_table(frame, out.timings, out.timings_html, f"Particle table timings ({nrows:,} rows)")


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
