# Stage 2 of the tutorial: the PyTables particle table, filled and queried, every method timed.

from outofcore.plan.sizes import PARTICLE_BYTES

PARTICLES_CATEGORY = "2. PyTables particles"


def particles_mem_mb(wildcards):
    """The table in memory twice, pandas' frame (~150 B/row) and the query's results."""
    return 500 + int(wildcards.rows) * 400 // 2**20


def particles_runtime(wildcards):
    """Minutes: iterrows, pandas and the index build dominate, ~1-2 million rows/s each."""
    return 10 + 2 * int(wildcards.rows) // 1_000_000


def particles_disk_mb(wildcards):
    """The table, np.save's copy, the direct-chunks copy, the indexed copy, the row table."""
    return 10 + 5 * int(wildcards.rows) * PARTICLE_BYTES // 2**20


rule particles:
    output:
        table="results/particles/{rows}/table.h5",
        query=report(
            "results/particles/{rows}/query.csv",
            caption="../report/particles_query.rst",
            category=PARTICLES_CATEGORY,
            subcategory="{rows} rows",
        ),
        timings=report(
            "results/particles/{rows}/timings.csv",
            caption="../report/particles_timings.rst",
            category=PARTICLES_CATEGORY,
            subcategory="{rows} rows",
        ),
    log:
        "logs/particles_{rows}.log",
    wildcard_constraints:
        rows=r"[1-9][0-9]*",
    conda:
        "../envs/particles.yaml"
    threads: 2  # numexpr (where, read_where, pandas) uses them
    resources:
        timing_lock=1,
        mem_mb=particles_mem_mb,
        runtime=particles_runtime,
        disk_mb=particles_disk_mb,
    params:
        query=config["particles"]["query"],
        compression=config["particles"]["compression"],
        row_by_row_max=config["particles"]["row_by_row_max"],
    script:
        "../../scripts/particles.py"


rule particles_plot:
    input:
        expand("results/particles/{rows}/timings.csv", rows=config["particles"]["rows"]),
    output:
        plot=report(
            "results/particles/query_time.png",
            caption="../report/particles_query_time.rst",
            category=PARTICLES_CATEGORY,
        ),
    log:
        "logs/particles_plot.log",
    conda:
        "../envs/particles.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
        disk_mb=10,
    params:
        query=config["particles"]["query"],
    script:
        "../../scripts/particles_plot.py"
