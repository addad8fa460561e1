"""Rule `particles`: the tutorial's step 2, the PyTables particle table filled and queried,
timed, then the same rows in the other stores (Parquet, HDFStore) queried by their engines."""

from pathlib import Path
from typing import Any

import numexpr
import numpy as np

from outofcore.core import contention
from outofcore.core.exclusive import timed_job
from outofcore.core.files import atomic_output, log_to
from outofcore.core.report_tables import write_table
from outofcore.limits.machine import this_host
from outofcore.particles.bench import (
    configured,
    log_ratios,
    run_queries,
    scratch_dir,
    time_fills,
    timings_frame,
)
from outofcore.particles.engines import to_numexpr
from outofcore.particles.format_bench import (
    FormatSettings,
    compare_formats,
    engine_threads,
    log_format_ratios,
    shuffled_table,
)
from outofcore.particles.queries import indexed_path, query_frame
from outofcore.particles.selectivity import OrderFiles, selectivities, time_selectivities
from outofcore.particles.table import check_rows, filters_for, make_particles
from outofcore.plan.query import parse_query


def main(smk: Any) -> None:
    log = log_to(smk.log[0])
    with timed_job("particles", log):  # no other timed job on this machine meanwhile, in any run
        nrows = int(smk.wildcards.rows)
        check_rows(nrows)
        query = parse_query(smk.params.query)
        filters = filters_for(smk.params.compression)
        threads = max(1, smk.threads)
        numexpr.set_num_threads(threads)
        threads_of = engine_threads(threads)  # engine -> its thread count
        settings = FormatSettings(**smk.params.formats)
        log.info("%d rows, query %s, filters %s, %d threads", nrows, to_numexpr(query), filters, threads)
        log.info(
            "other stores %s, orders %s, engine threads %s", settings.formats, settings.orders, threads_of
        )
        table_path = Path(smk.output.table)
        outputs = {fmt: Path(smk.output[fmt]) for fmt in settings.formats}
        questions = selectivities(smk.params.queries, nrows)  # the shares of the rows also asked
        asking = "; ".join(f"{q.label}: {q.condition}, {q.matches:,} rows" for q in questions)
        log.info("shares of the rows also asked: %s", asking or "none")
        with contention.watch() as busy, scratch_dir(table_path) as scratch:
            with atomic_output(table_path) as tmp:
                timings = time_fills(tmp, scratch, nrows, filters, smk.params.row_by_row_max, log)
            rows, query_timings = run_queries(table_path, scratch, query, threads, log=log,
                                              keep_indexed=bool(questions))  # fmt: skip
            timings += query_timings
            records = make_particles(0, nrows)  # the rows again (fast), for the other stores

            def also(order: str, data: np.ndarray, paths: dict[str, Path]) -> list:
                table = table_path if order == "sorted" else shuffled_table(scratch)
                files = OrderFiles(order, table, indexed_path(table, scratch), paths.get("parquet"), data)
                return time_selectivities(questions, files, records, threads_of, log)

            if settings.formats or "shuffled" in settings.orders:
                timings += compare_formats(records, outputs, scratch, query, rows, settings, threads_of,
                                           filters, log, also if questions else None)  # fmt: skip
            elif questions:  # PyTables and NumPy only, on the sorted rows
                timings += also("sorted", records, {})
        log.info("while timing: %s", busy)  # a busy machine slows every method, not the ratios
        frame = timings_frame(timings)
        frame["others_busy"] = busy.others
        frame["host"] = this_host()  # the node whose limits its figures are read against
        asked = (frame["step"] == "query") & frame["matches"].notna() & frame["selectivity"].isna()
        frame.loc[asked, "condition"] = to_numexpr(query)
        log_ratios(configured(frame), log)
        log_format_ratios(configured(frame), log)
        out = smk.output
        matching = f"Rows matching {to_numexpr(query)} ({nrows:,} rows)"  # the normal form
        write_table(query_frame(rows), out.query, out.query_html, matching)
        write_table(frame, out.timings, out.timings_html, f"Particle table timings ({nrows:,} rows)")


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 - injected by Snakemake's script directive
