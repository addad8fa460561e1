# The machine's own limits (memory copy, disk), measured in the same run as the stages.


rule limits:
    output:
        **reported_table(
            LIMITS, "limits", SUMMARY_CATEGORY, "machine limits and versions"
        ),
    log:
        "logs/limits.log",
    benchmark:
        "benchmarks/limits.tsv"
    conda:
        "../envs/limits.yaml"
    threads: max(blosc_threads_request(), config["hugearray"]["threads"], PARTICLE_THREADS)
    resources:
        mem_mb=sizing.limits_mem_mb(config["limits"]["memcpy_mb"]),
        runtime=10,
        disk_mb=config["limits"]["disk_mb"],
        timing_lock=1,
    params:
        memcpy_mb=config["limits"]["memcpy_mb"],
        disk_mb=config["limits"]["disk_mb"],
        repeats=config["limits"]["repeats"],
        # memory bandwidths over these counts too (besides 1, 2, 4, ... up to the cores)
        threads=sorted(
            {
                *jobs.fixed_threads(config["blosc"]["threads"]),
                config["hugearray"]["threads"],
                PARTICLE_THREADS,
            }
        ),
    script:
        "../../scripts/limits.py"
