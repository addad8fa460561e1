# Stage 1 of the tutorial: named random integer arrays in one HDF5 file (h5py), written
# by one job and listed and sliced by another, as the tutorial reopens the file to read.
DATASETS_CATEGORY = "1. h5py datasets"
DATASET_ARRAYS = config["datasets"]["arrays"]


rule datasets:
    output:
        h5="results/datasets/random.h5",
    log:
        "logs/datasets.log",
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        mem_mb=sizing.datasets_mem_mb(DATASET_ARRAYS),
        runtime=sizing.datasets_runtime(DATASET_ARRAYS),
        disk_mb=sizing.datasets_disk_mb(DATASET_ARRAYS),
    params:
        arrays=DATASET_ARRAYS,
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
            category=DATASETS_CATEGORY,
            labels=labels("datasets in the file", "table as CSV"),
        ),
        summary_html=report(
            "results/datasets/summary.html",
            caption="../report/datasets_summary.rst",
            category=DATASETS_CATEGORY,
            labels=labels("datasets in the file", "table"),
        ),
        partial=report(
            "results/datasets/partial_read.csv",
            caption="../report/datasets_partial.rst",
            category=DATASETS_CATEGORY,
            labels=labels("slice read back", "table as CSV"),
        ),
        partial_html=report(
            "results/datasets/partial_read.html",
            caption="../report/datasets_partial.rst",
            category=DATASETS_CATEGORY,
            labels=labels("slice read back", "table"),
        ),
    log:
        "logs/datasets_listing.log",
    conda:
        "../envs/datasets.yaml"
    threads: 1
    resources:
        mem_mb=sizing.datasets_listing_mem_mb(),
        runtime=sizing.datasets_runtime(DATASET_ARRAYS),
        disk_mb=1,
    params:
        slice=config["datasets"]["slice"],
    script:
        "../../scripts/datasets_listing.py"
