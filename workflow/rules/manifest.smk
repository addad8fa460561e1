# Checksums of the run's data artifacts: same config, same manifest.


rule manifest:
    input:
        data_artifacts(),
    output:
        csv=report(
            "results/manifest.csv",
            caption="../report/manifest.rst",
            category=SUMMARY_CATEGORY,
            labels=labels("data manifest (sha256)", "table as CSV"),
        ),
        html=report(
            "results/manifest.html",
            caption="../report/manifest.rst",
            category=SUMMARY_CATEGORY,
            labels=labels("data manifest (sha256)", "table"),
        ),
    log:
        "logs/manifest.log",
    conda:
        "../envs/manifest.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=10,
        disk_mb=1,
    script:
        "../../scripts/manifest.py"
