# Stage 5: an on-disk array larger than memory, built block by block and reduced out of
# core, one job per array size, data source, backend and reduce engine (each job writes
# its own store: its peak RSS is that engine's); then its memory and throughput plots.
# `hugearray.data` names the sources: the stage's own uniform_int16, a generator, or an
# entry of `data:` (a user's file: its job waits for the data_sources job's checks).
# One rule per output suffix of the array stores (outofcore.plan.hugearray_stores):
# `hugearray` for the .h5 backends, `use rule hugearray as hugearray_<name>` for each
# other suffix. A store or engine a user configures runs at each of hugearray.settings
# (`default`, `tuned`: a tuned job's {backend} is `<backend>.tuned`); the workflow's own
# paths run once (`pipeline`). The arrays are temporary unless hugearray.keep_data is set.
from outofcore.plan import hugearray_inputs, hugearray_stores

HUGEARRAY = config["hugearray"]
HUGEARRAY_DATA = {
    spec.label: spec
    for spec in hugearray_inputs.stage_sources(
        HUGEARRAY["data"], DATA, "hugearray.data"
    )
}


rule hugearray:
    input:
        sources=lambda wc: hugearray_stores.source_inputs(
            HUGEARRAY_DATA[wc.data].is_file, SOURCES
        ),
        limits=LIMITS,  # its node: a job elsewhere measures its own node's
        file=lambda wc: HUGEARRAY_DATA[wc.data].inputs,
    output:
        data=data_output(
            f"{HUGEARRAY_JOB}.h5",
            keep=HUGEARRAY["keep_data"],
            is_directory=hugearray_stores.stored_as_directory(".h5"),
        ),
        table=f"{HUGEARRAY_JOB}.csv",
        node_limits=f"{HUGEARRAY_JOB}.node_limits.csv",
        naive=f"{HUGEARRAY_JOB}.naive.csv",
    log:
        "logs/hugearray_{size_mb}_{data}_{engine}_{backend}.log",
    benchmark:
        "benchmarks/hugearray_{size_mb}_{data}_{engine}_{backend}.tsv"
    wildcard_constraints:
        size_mb=jobs.one_of(HUGEARRAY["sizes_mb"]),
        data=jobs.one_of(HUGEARRAY_DATA),
        engine=jobs.one_of(HUGEARRAY["engines"]),
        backend=hugearray_stores.backends_stored_as(".h5"),
    conda:
        "../envs/hugearray.yaml"
    threads: HUGEARRAY["threads"]
    resources:
        timing_lock=1,
        mem_mb=lambda wc: sizing.hugearray_mem_mb(
            HUGEARRAY["threads"],
            HUGEARRAY["block_mb"],
            HUGEARRAY["chunk_kb"],
            hugearray_stores.backend_of(wc.backend),
            wc.engine,
            own_data=wc.data == hugearray_inputs.OWN_DATA,
        ),
        runtime=lambda wc: sizing.hugearray_runtime(int(wc.size_mb)),
        disk_mb=lambda wc: sizing.hugearray_disk_mb(int(wc.size_mb)),
    params:  # the fields of outofcore.hugearray.job.HugeArrayJob, by name
        backend=lambda wc: hugearray_stores.backend_of(wc.backend),
        setting=lambda wc: hugearray_stores.setting_of(wc.backend, wc.engine),
        engine=lambda wc: wc.engine,
        data=lambda wc: wc.data,
        source=lambda wc: HUGEARRAY_DATA[wc.data].as_params(),
        size_mb=lambda wc: int(wc.size_mb),
        columns=HUGEARRAY["columns"],
        block_mb=HUGEARRAY["block_mb"],
        chunk_kb=HUGEARRAY["chunk_kb"],
        compression=HUGEARRAY["compression"],
        direct_chunks=HUGEARRAY["direct_chunks"],
        cold_read=HUGEARRAY["cold_read"],
        zarr_shards=HUGEARRAY["zarr"]["shards"],
        blosc2_block_kb=HUGEARRAY["blosc2"]["block_kb"],
        seed=config["seed"],
        memory_cap_mb=HUGEARRAY["memory_cap_mb"],
        cluster=HUGEARRAY["cluster"],
        naive=lambda wc: hugearray_stores.naive_job(
            wc.backend,
            wc.engine,
            HUGEARRAY["backends"],
            HUGEARRAY["engines"],
            HUGEARRAY["memory_cap_mb"],
        ),
        node_limits=config["limits"],  # measured if this job's node is not the limits job's
    script:
        "../../scripts/hugearray.py"


use rule hugearray as hugearray_memmap with:
    output:
        data=data_output(
            f"{HUGEARRAY_JOB}.npy",
            keep=HUGEARRAY["keep_data"],
            is_directory=hugearray_stores.stored_as_directory(".npy"),
        ),
        table=f"{HUGEARRAY_JOB}.csv",
        node_limits=f"{HUGEARRAY_JOB}.node_limits.csv",
        naive=f"{HUGEARRAY_JOB}.naive.csv",
    wildcard_constraints:
        size_mb=jobs.one_of(HUGEARRAY["sizes_mb"]),
        data=jobs.one_of(HUGEARRAY_DATA),
        engine=jobs.one_of(HUGEARRAY["engines"]),
        backend=hugearray_stores.backends_stored_as(".npy"),


use rule hugearray as hugearray_zarr with:
    output:
        data=data_output(
            f"{HUGEARRAY_JOB}.zarr",
            keep=HUGEARRAY["keep_data"],
            is_directory=hugearray_stores.stored_as_directory(".zarr"),
        ),
        table=f"{HUGEARRAY_JOB}.csv",
        node_limits=f"{HUGEARRAY_JOB}.node_limits.csv",
        naive=f"{HUGEARRAY_JOB}.naive.csv",
    wildcard_constraints:
        size_mb=jobs.one_of(HUGEARRAY["sizes_mb"]),
        data=jobs.one_of(HUGEARRAY_DATA),
        engine=jobs.one_of(HUGEARRAY["engines"]),
        backend=hugearray_stores.backends_stored_as(".zarr"),


use rule hugearray as hugearray_blosc2 with:
    output:
        data=data_output(
            f"{HUGEARRAY_JOB}.b2nd",
            keep=HUGEARRAY["keep_data"],
            is_directory=hugearray_stores.stored_as_directory(".b2nd"),
        ),
        table=f"{HUGEARRAY_JOB}.csv",
        node_limits=f"{HUGEARRAY_JOB}.node_limits.csv",
        naive=f"{HUGEARRAY_JOB}.naive.csv",
    wildcard_constraints:
        size_mb=jobs.one_of(HUGEARRAY["sizes_mb"]),
        data=jobs.one_of(HUGEARRAY_DATA),
        engine=jobs.one_of(HUGEARRAY["engines"]),
        backend=hugearray_stores.backends_stored_as(".b2nd"),


rule hugearray_plots:
    input:
        limits=LIMITS,  # the limits the summary divides by, drawn in throughput.png
        tables=hugearray_stores.job_tables(
            HUGEARRAY_JOB,
            HUGEARRAY["sizes_mb"],
            list(HUGEARRAY_DATA),
            HUGEARRAY["backends"],
            HUGEARRAY["engines"],
            settings=HUGEARRAY["settings"],
        ),
        node_limits=hugearray_stores.job_tables(
            HUGEARRAY_JOB,
            HUGEARRAY["sizes_mb"],
            list(HUGEARRAY_DATA),
            HUGEARRAY["backends"],
            HUGEARRAY["engines"],
            ".node_limits.csv",
            settings=HUGEARRAY["settings"],
        ),
        naive=hugearray_stores.job_tables(
            HUGEARRAY_JOB,
            HUGEARRAY["sizes_mb"],
            list(HUGEARRAY_DATA),
            HUGEARRAY["backends"],
            HUGEARRAY["engines"],
            ".naive.csv",
            settings=HUGEARRAY["settings"],
        ),
    output:
        **reported_table(
            HUGEARRAY_SUMMARY,
            "hugearray_summary",
            HUGEARRAY_CATEGORY,
            "measurements",
            names=("summary", "summary_html"),
        ),
        memory=reported(
            HUGEARRAY_MEMORY,
            "hugearray_memory",
            HUGEARRAY_CATEGORY,
            "peak memory against array size",
            "figure",
        ),
        throughput=reported(
            HUGEARRAY_THROUGHPUT,
            "hugearray_throughput",
            HUGEARRAY_CATEGORY,
            "throughput against array size",
            "figure",
        ),
        memory_cap=reported(
            HUGEARRAY_MEMORY_CAP,
            "hugearray_memory_cap",
            HUGEARRAY_CATEGORY,
            "the naive way against the memory cap",
            "figure",
        ),
        memory_cap_table=HUGEARRAY_MEMORY_CAP_TABLE,
        headline=headline("hugearray"),
        node_limits=NODE_LIMITS,
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
        memory_cap_mb=HUGEARRAY["memory_cap_mb"],
    script:
        "../../scripts/hugearray_plots.py"
