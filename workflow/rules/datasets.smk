# Stage 1 of the tutorial: named random integer arrays in one HDF5 file (h5py), written
# by one job and listed and sliced by another, as the tutorial reopens the file to read.


rule datasets:
    output:
        h5="results/datasets/random.h5",
    log:
        "logs/datasets.log",
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        # one array in memory at a time, plus its int64 copy and the interpreter
        mem_mb=lambda wc: 300
        + 2 * max(a["size"] for a in config["datasets"]["arrays"]) * 8 // 2**20,
        # minutes (SLURM --time): 5, plus 1 per GiB written (>= 35 MB/s)
        runtime=lambda wc: 5 + datasets_bytes() // 2**30,
        disk_mb=lambda wc: 1 + datasets_bytes() // 2**20,
    params:
        arrays=config["datasets"]["arrays"],
        seed=config["seed"],
    script:
        "../../scripts/datasets.py"


rule datasets_listing:
    input:
        h5="results/datasets/random.h5",
    output:
        summary=report(
            "results/datasets/summary.csv",
            caption="../report/datasets_summary.rst",
            category="1. h5py datasets",
        ),
        partial=report(
            "results/datasets/partial_read.csv",
            caption="../report/datasets_partial.rst",
            category="1. h5py datasets",
        ),
    log:
        "logs/datasets_listing.log",
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        mem_mb=300 + 2 * 8 * 2**20 // 2**20,  # reads in blocks of 2**20 elements
        runtime=lambda wc: 5 + datasets_bytes() // 2**30,
        disk_mb=1,
    params:
        slice=config["datasets"]["slice"],
    script:
        "../../scripts/datasets_listing.py"
