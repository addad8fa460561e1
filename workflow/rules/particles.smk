# Stage 2 of the tutorial: the PyTables particle table, filled and queried, every method timed;
# the same rows in Parquet and pandas' HDFStore, queried by DuckDB, Polars, Arrow and pandas.


rule particles:
    output:
        **jobs.particle_store_outputs(config["particles"]["formats"]),
        **reported_table(
            PARTICLES_QUERY,
            "particles_query",
            PARTICLES_CATEGORY,
            "matching rows",
            subcategory="{rows} rows",
            names=("query", "query_html"),
        ),
        **reported_table(
            PARTICLES_TIMINGS,
            "particles_timings",
            PARTICLES_CATEGORY,
            "timings",
            subcategory="{rows} rows",
            names=("timings", "timings_html"),
        ),
        table=PARTICLES_TABLE,
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
        queries=lambda wc: jobs.particle_shares(config["particles"], int(wc.rows)),
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
        expand(PARTICLES_TIMINGS, rows=config["particles"]["rows"]),
    output:
        plot=reported(
            PARTICLES_QUERY_TIME,
            "particles_query_time",
            PARTICLES_CATEGORY,
            "query time against rows",
            "figure",
            subcategory="all sizes",
        ),
        formats=reported(
            PARTICLES_FORMATS,
            "particles_formats",
            PARTICLES_CATEGORY,
            "PyTables, Parquet and HDFStore",
            "figure",
            subcategory="all sizes",
        ),
        headline=headline("particles"),
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
