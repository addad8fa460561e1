# Stage 2 of the tutorial: the PyTables particle table, filled and queried, every method timed.

PARTICLE_BYTES = 36  # one row of the tutorial's Particle record
PARTICLE_THREADS = 2  # numexpr (where, read_where, pandas) uses them


rule particles:
    output:
        table="results/particles/{rows}/table.h5",
        query=report(
            "results/particles/{rows}/query.csv",
            caption="../report/particles_query.rst",
            category="2. PyTables particles",
            subcategory="{rows} rows",
        ),
        timings=report(
            "results/particles/{rows}/timings.csv",
            caption="../report/particles_timings.rst",
            category="2. PyTables particles",
            subcategory="{rows} rows",
        ),
    log:
        "logs/particles_{rows}.log",
    wildcard_constraints:
        rows=r"[1-9][0-9]*",
    conda:
        "../envs/particles.yaml"
    threads: PARTICLE_THREADS
    resources:
        timing_lock=1,
        # the table in memory twice, pandas' frame (~150 B/row) and the query's results
        mem_mb=lambda wc: 500 + int(wc.rows) * 400 // 2**20,
        # iterrows, pandas and the index build dominate: ~1-2 million rows/s each
        runtime=lambda wc: 10 + 2 * int(wc.rows) // 1_000_000,
        # the table, np.save's copy, the direct-chunks copy, the indexed copy, the row table
        disk_mb=lambda wc: 10 + 5 * int(wc.rows) * PARTICLE_BYTES // 2**20,
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
            category="2. PyTables particles",
        ),
        headline="results/particles/headline.csv",
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
        threads=PARTICLE_THREADS,
    script:
        "../../scripts/particles_plot.py"
