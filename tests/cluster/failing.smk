# A workflow whose one job fails on purpose. tests/test_slurm.py runs it on the test
# cluster to check that a job failing there fails the run and that its SLURM log is shown.


rule fail:
    output:
        "never.txt",
    log:
        "logs/fail.log",
    threads: 1
    resources:
        mem_mb=100,
        runtime=1,
        disk_mb=1,
    shell:
        "echo 'fail: about to exit 3' > {log}; "
        "echo 'deliberate failure on the cluster' >&2; "
        "exit 3"
