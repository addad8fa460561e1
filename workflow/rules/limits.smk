# The machine's own limits (memory copy, disk), measured in the same run as the stages.


rule limits:
    output:
        csv=report(
            "results/limits.csv",
            caption="../report/limits.rst",
            category="0. Summary",
            labels={"table": "machine limits and versions"},
        ),
    log:
        "logs/limits.log",
    conda:
        "../envs/limits.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc: 300 + 2 * config["limits"]["memcpy_mb"] + 16,
        runtime=10,
        disk_mb=lambda wc: config["limits"]["disk_mb"],
        timing_lock=1,
    params:
        memcpy_mb=config["limits"]["memcpy_mb"],
        disk_mb=config["limits"]["disk_mb"],
        repeats=config["limits"]["repeats"],
    script:
        "../../scripts/limits.py"
