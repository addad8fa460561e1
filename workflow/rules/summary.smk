# Every stage's headline figures beside the machine limits of the same run.


rule summary:
    input:
        limits="results/limits.csv",
        headlines=[
            f"results/{stage}/headline.csv"
            for stage in ("particles", "blosc", "hugearray")
        ],
    output:
        csv=report(
            "results/summary.csv",
            caption="../report/summary.rst",
            category=SUMMARY_CATEGORY,
            labels={"table": "headline figures as fractions of the limits"},
        ),
        png=report(
            "results/summary.png",
            caption="../report/summary.rst",
            category=SUMMARY_CATEGORY,
            labels={"figure": "fractions of the limits"},
        ),
    log:
        "logs/summary.log",
    conda:
        "../envs/summary.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
        disk_mb=10,
    script:
        "../../scripts/summary.py"
