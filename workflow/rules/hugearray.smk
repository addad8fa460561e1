# Stage 5: an on-disk array larger than memory, built block by block and reduced out of
# core, one job per array size and backend; then its memory and throughput plots.
import math

HUGEARRAY = config["hugearray"]


def hugearray_data(path):
    """The large array files are temporary unless hugearray.keep_data is set."""
    return path if HUGEARRAY["keep_data"] else temp(path)


def hugearray_mem_mb(wildcards):
    """Interpreter and libraries (~250 MiB measured), the float64 block and its uint16
    source, a memmap window or the prefetch buffers: set by the block, not the size."""
    return 300 + 3 * HUGEARRAY["block_mb"] + 4 * HUGEARRAY["chunk_kb"] // 1024


def hugearray_disk_mb(wildcards):
    """Uncompressed size plus headroom: the data may not compress."""
    return math.ceil(int(wildcards.size_mb) * 1.01) + 16


def hugearray_runtime(wildcards):
    """Minutes, assuming at least 25 MB/s for writing and reading back (a slow disk)."""
    return 2 + math.ceil(2 * int(wildcards.size_mb) / 25 / 60)


rule hugearray_hdf5:
    output:
        data=hugearray_data("results/hugearray/{size_mb}/{backend}.h5"),
        table="results/hugearray/{size_mb}/{backend}.csv",
    log:
        "logs/hugearray_{size_mb}_{backend}.log",
    wildcard_constraints:
        size_mb=r"\d+",
        backend="tables|h5py",
    conda:
        "../envs/hugearray.yaml"
    threads: HUGEARRAY["threads"]
    resources:
        timing_lock=1,
        mem_mb=hugearray_mem_mb,
        runtime=hugearray_runtime,
        disk_mb=hugearray_disk_mb,
    params:
        backend=lambda wc: wc.backend,
        size_mb=lambda wc: int(wc.size_mb),
        columns=HUGEARRAY["columns"],
        block_mb=HUGEARRAY["block_mb"],
        chunk_kb=HUGEARRAY["chunk_kb"],
        compression=HUGEARRAY["compression"],
        direct_chunks=HUGEARRAY["direct_chunks"],
        cold_read=HUGEARRAY["cold_read"],
        seed=config["seed"],
    script:
        "../../scripts/hugearray.py"


use rule hugearray_hdf5 as hugearray_memmap with:
    output:
        data=hugearray_data("results/hugearray/{size_mb}/{backend}.npy"),
        table="results/hugearray/{size_mb}/{backend}.csv",
    wildcard_constraints:
        size_mb=r"\d+",
        backend="memmap",


rule hugearray_plots:
    input:
        expand(
            "results/hugearray/{size_mb}/{backend}.csv",
            size_mb=HUGEARRAY["sizes_mb"],
            backend=HUGEARRAY["backends"],
        ),
    output:
        summary=report(
            "results/hugearray/summary.csv",
            caption="../report/hugearray_summary.rst",
            category="5. Huge on-disk array",
        ),
        memory=report(
            "results/hugearray/memory.png",
            caption="../report/hugearray_memory.rst",
            category="5. Huge on-disk array",
        ),
        throughput=report(
            "results/hugearray/throughput.png",
            caption="../report/hugearray_throughput.rst",
            category="5. Huge on-disk array",
        ),
    log:
        "logs/hugearray_plots.log",
    conda:
        "../envs/hugearray.yaml"
    threads: 1
    resources:
        mem_mb=400,
        runtime=5,
    params:
        cold_read=HUGEARRAY["cold_read"],
    script:
        "../../scripts/hugearray_plots.py"
