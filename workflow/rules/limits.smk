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
    threads: 1
    resources:
        mem_mb=sizing.limits_mem_mb(config["limits"]["memcpy_mb"]),
        runtime=10,
        disk_mb=config["limits"]["disk_mb"],
        timing_lock=1,
    params:
        memcpy_mb=config["limits"]["memcpy_mb"],
        disk_mb=config["limits"]["disk_mb"],
        repeats=config["limits"]["repeats"],
    script:
        "../../scripts/limits.py"
