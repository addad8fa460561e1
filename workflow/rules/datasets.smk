# Stage 1 of the tutorial: named random integer arrays in one HDF5 file (h5py), written
# by one job and listed and sliced by another, as the tutorial reopens the file to read.
DATASET_ARRAYS = config["datasets"]["arrays"]


rule datasets:
    output:
        h5=DATASETS_H5,
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
        h5=DATASETS_H5,
    output:
        **reported_table(
            DATASETS_SUMMARY,
            "datasets_summary",
            DATASETS_CATEGORY,
            "datasets in the file",
            names=("summary", "summary_html"),
        ),
        **reported_table(
            DATASETS_PARTIAL,
            "datasets_partial",
            DATASETS_CATEGORY,
            "slice read back",
            names=("partial", "partial_html"),
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
