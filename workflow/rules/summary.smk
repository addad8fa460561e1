# Every stage's headline figures beside the machine limits of the same run.


rule summary:
    input:
        limits="results/limits.csv",
        particles=expand(
            "results/particles/{rows}/timings.csv", rows=config["particles"]["rows"]
        ),
        blosc="results/blosc/sweep.csv",
        hugearray=["results/hugearray/summary.csv"],
    output:
        csv=report(
            "results/summary.csv",
            caption="../report/summary.rst",
            category="0. Summary",
            labels={"table": "headline figures as fractions of the limits"},
        ),
        png=report(
            "results/summary.png",
            caption="../report/summary.rst",
            category="0. Summary",
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
    params:
        hugearray_cold=config["hugearray"]["cold_read"],
    script:
        "../../scripts/summary.py"
