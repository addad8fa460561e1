# Checksums of the run's data artifacts: same config, same manifest.


rule manifest:
    input:
        data_artifacts(),
    output:
        **reported_table(
            MANIFEST, "manifest", SUMMARY_CATEGORY, "data manifest (sha256)"
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
