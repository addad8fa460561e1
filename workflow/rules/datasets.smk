# Stage 1 of the tutorial: named random integer arrays in one HDF5 file (h5py).


rule datasets:
    output:
        h5="results/datasets/random.h5",
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
        "logs/datasets.log",
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        # one array in memory at a time, plus its int64 copy and the interpreter
        mem_mb=lambda wc: 300
        + 2 * max(a["size"] for a in config["datasets"]["arrays"]) * 8 // 2**20,
        # minutes (SLURM --time): 5, plus 1 per GiB written and read back (>= 35 MB/s)
        runtime=lambda wc: 5
        + sum(a["size"] for a in config["datasets"]["arrays"]) * 8 // 2**30,
        disk_mb=lambda wc: 1
        + sum(a["size"] for a in config["datasets"]["arrays"]) * 8 // 2**20,
    params:
        arrays=config["datasets"]["arrays"],
        slice=config["datasets"]["slice"],
        seed=config["seed"],
    script:
        "../../scripts/datasets.py"
