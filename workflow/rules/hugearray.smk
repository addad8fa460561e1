# Stage 5: an on-disk array larger than memory, built block by block and reduced out of
# core, one job per array size and backend; then its memory and throughput plots.
# One rule per output suffix of the stores (outofcore.plan.stores): `hugearray` for the
# .h5 backends, `use rule hugearray as hugearray_<name>` for each other suffix.
import math

from outofcore.plan import sizes, stores

HUGEARRAY = config["hugearray"]


def hugearray_store(suffix):
    """Output of the array stores ending in `suffix`: a file or a directory, temporary
    unless hugearray.keep_data is set."""
    path = "results/hugearray/{size_mb}/{backend}" + suffix
    if stores.stored_as_directory(suffix):
        path = directory(path)
    return path if HUGEARRAY["keep_data"] else temp(path)


def hugearray_mem_mb(wildcards):
    """Interpreter and libraries (~120 MiB), then per block: the float64 block, its
    uint16 source, its compressed chunks, and one block (or memmap window) per reading
    thread, plus two chunk buffers per thread. Measured peaks at block_mb 16/64/256
    with 2 threads: 148/232/508 MiB (tables), 157/276/693 MiB (memmap)."""
    threads, chunk_mb = HUGEARRAY["threads"], HUGEARRAY["chunk_kb"] / 1024
    return math.ceil(
        150 + (threads + 1) * HUGEARRAY["block_mb"] + 2 * threads * chunk_mb
    )


def hugearray_disk_mb(wildcards):
    """The array's uncompressed size plus headroom (the data may not compress): the
    same figure the job checks against the free space before writing."""
    return sizes.array_disk_mb(int(wildcards.size_mb))


def hugearray_runtime(wildcards):
    """Minutes, assuming at least 25 MB/s for writing and reading back (a slow disk)."""
    return 2 + math.ceil(2 * int(wildcards.size_mb) / 25 / 60)


rule hugearray:
    output:
        data=hugearray_store(".h5"),
        table="results/hugearray/{size_mb}/{backend}.csv",
    log:
        "logs/hugearray_{size_mb}_{backend}.log",
    wildcard_constraints:
        size_mb=r"\d+",
        backend=stores.backends_stored_as(".h5"),
    conda:
        "../envs/hugearray.yaml"
    threads: HUGEARRAY["threads"]
    resources:
        timing_lock=1,
        mem_mb=hugearray_mem_mb,
        runtime=hugearray_runtime,
        disk_mb=hugearray_disk_mb,
    params:  # the fields of outofcore.hugearray.HugeArrayJob, by name
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


use rule hugearray as hugearray_memmap with:
    output:
        data=hugearray_store(".npy"),
        table="results/hugearray/{size_mb}/{backend}.csv",
    wildcard_constraints:
        size_mb=r"\d+",
        backend=stores.backends_stored_as(".npy"),


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
            category="4. Huge on-disk array",
        ),
        memory=report(
            "results/hugearray/memory.png",
            caption="../report/hugearray_memory.rst",
            category="4. Huge on-disk array",
        ),
        throughput=report(
            "results/hugearray/throughput.png",
            caption="../report/hugearray_throughput.rst",
            category="4. Huge on-disk array",
        ),
        headline="results/hugearray/headline.csv",
    log:
        "logs/hugearray_plots.log",
    conda:
        "../envs/hugearray.yaml"
    threads: 1
    resources:
        mem_mb=400,
        runtime=5,
        disk_mb=10,
    params:
        cold_read=HUGEARRAY["cold_read"],
        threads=HUGEARRAY["threads"],
    script:
        "../../scripts/hugearray_plots.py"
