# The machine's own limits (memory copy, disk), measured in the same run as the stages.
DECISION_CATEGORY = "0. What to use"
SUMMARY_CATEGORY = "5. Machine limits and summary"


rule limits:
    output:
        csv=report(
            "results/limits.csv",
            caption="../report/limits.rst",
            category=SUMMARY_CATEGORY,
            labels=labels("machine limits and versions", "table as CSV"),
        ),
        html=report(
            "results/limits.html",
            caption="../report/limits.rst",
            category=SUMMARY_CATEGORY,
            labels=labels("machine limits and versions", "table"),
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
