# Stage 2 of the tutorial: the PyTables particle table, filled and queried, every method timed;
# the same rows in Parquet and pandas' HDFStore, queried by DuckDB, Polars, Arrow and pandas.

PARTICLES_CATEGORY = "2. PyTables particles"


rule particles:
    output:
        **jobs.particle_store_outputs(config["particles"]["formats"]),
        table="results/particles/{rows}/table.h5",
        query=report(
            "results/particles/{rows}/query.csv",
            caption="../report/particles_query.rst",
            category=PARTICLES_CATEGORY,
            subcategory="{rows} rows",
            labels=labels("matching rows", "table as CSV"),
        ),
        query_html=report(
            "results/particles/{rows}/query.html",
            caption="../report/particles_query.rst",
            category=PARTICLES_CATEGORY,
            subcategory="{rows} rows",
            labels=labels("matching rows", "table"),
        ),
        timings=report(
            "results/particles/{rows}/timings.csv",
            caption="../report/particles_timings.rst",
            category=PARTICLES_CATEGORY,
            subcategory="{rows} rows",
            labels=labels("timings", "table as CSV"),
        ),
        timings_html=report(
            "results/particles/{rows}/timings.html",
            caption="../report/particles_timings.rst",
            category=PARTICLES_CATEGORY,
            subcategory="{rows} rows",
            labels=labels("timings", "table"),
        ),
    log:
        "logs/particles_{rows}.log",
    benchmark:
        "benchmarks/particles_{rows}.tsv"
    wildcard_constraints:
        rows=jobs.one_of(config["particles"]["rows"]),
    conda:
        "../envs/particles.yaml"
    threads: PARTICLE_THREADS
    resources:
        timing_lock=1,
        mem_mb=lambda wc: sizing.particles_mem_mb(int(wc.rows)),
        runtime=lambda wc: sizing.particles_runtime(int(wc.rows)),
        disk_mb=lambda wc: sizing.particles_disk_mb(int(wc.rows)),
    params:
        query=config["particles"]["query"],
        compression=config["particles"]["compression"],
        row_by_row_max=config["particles"]["row_by_row_max"],
        formats={
            "formats": config["particles"]["formats"],
            "orders": config["particles"]["order"],
            "parquet_compression": config["particles"]["parquet_compression"],
            "parquet_row_group_rows": config["particles"]["parquet_row_group_rows"],
            "seed": config["seed"],
        },
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
            subcategory="all sizes",
            labels=labels("query time against rows", "figure"),
        ),
        formats=report(
            "results/particles/formats.png",
            caption="../report/particles_formats.rst",
            category=PARTICLES_CATEGORY,
            subcategory="all sizes",
            labels=labels("PyTables, Parquet and HDFStore", "figure"),
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
