# The tutorial's steps 3-4: blosc compression of each data source (the tutorial's
# linspace(0, 100, n) by default) across sizes, timed soundly (autoranged samples, one
# timed job at a time per machine) and without pickle on the safe path. One sweep job per
# (data, method, codec): a job holds one source's arrays and reads only its own file, and
# a cluster runs them in parallel; blosc2's filter pipelines are a loop inside its job,
# like the thread counts. `blosc_plots` gathers the parts into the table, the performance
# ratios, the figures and the filter x codec matrix.

BLOSC = config["blosc"]
BLOSC_JOBS = jobs.blosc_combinations(BLOSC["methods"], BLOSC["codecs"])


rule blosc_sweep:
    input:
        sources=SOURCES,
        file=lambda wc: DATA_BY_LABEL[wc.data].inputs,
    output:
        csv=BLOSC_PART,
    log:
        "logs/blosc_sweep_{data}_{method}_{codec}.log",
    benchmark:
        "benchmarks/blosc_sweep_{data}_{method}_{codec}.tsv"
    wildcard_constraints:
        data="[A-Za-z0-9_-]+",
        method="pack_array|compress_ptr|blosc2",
        codec="blosclz|lz4|lz4hc|zlib|zstd",
    conda:
        "../envs/blosc.yaml"
    threads: blosc_threads_request()
    resources:
        timing_lock=1,
        mem_mb=lambda wc: sizing.blosc_sweep_mem_mb(BLOSC["sizes"], wc.method),
        runtime=lambda wc: sizing.blosc_sweep_runtime(
            BLOSC["sizes"],
            BLOSC["threads"],
            BLOSC["repeats"],
            BLOSC["min_time"],
            len(BLOSC["filters"]) if wc.method == "blosc2" else 1,
        ),
        disk_mb=10,  # one small CSV of timings
    params:
        sizes=BLOSC["sizes"],
        clevel=BLOSC["clevel"],
        threads=BLOSC["threads"],
        repeats=BLOSC["repeats"],
        min_time=BLOSC["min_time"],
        filters=BLOSC["filters"],
        source=lambda wc: DATA_BY_LABEL[wc.data].as_params(),
        seed=config["seed"],
    script:
        "../../scripts/blosc_sweep.py"


rule blosc_plots:
    input:
        parts=[
            BLOSC_PART.format(data=d.label, method=m, codec=c)
            for d in DATA
            for m, c in BLOSC_JOBS
        ],
    output:
        **reported_table(
            BLOSC_SWEEP,
            "blosc_sweep",
            BLOSC_CATEGORY,
            "sweep",
            names=("csv", "sweep_html"),
        ),
        **reported_table(
            BLOSC_TARGETS,
            "blosc_targets",
            BLOSC_CATEGORY,
            "performance ratios",
            names=("targets", "targets_html"),
        ),
        seed_png=reported(
            BLOSC_FIGURES["seed_png"],
            "blosc_seed_loglog",
            BLOSC_CATEGORY,
            "the tutorial's figure, fixed",
            "figure",
        ),
        seed_svg=BLOSC_FIGURES["seed_svg"],
        throughput_png=reported(
            BLOSC_FIGURES["throughput_png"],
            "blosc_throughput",
            BLOSC_CATEGORY,
            "throughput against size",
            "figure",
        ),
        throughput_svg=BLOSC_FIGURES["throughput_svg"],
        ratio_png=reported(
            BLOSC_FIGURES["ratio_png"],
            "blosc_ratio",
            BLOSC_CATEGORY,
            "compression ratio",
            "figure",
        ),
        matrix_png=reported(
            BLOSC_FIGURES["matrix_png"],
            "blosc_matrix",
            BLOSC_CATEGORY,
            "filter x codec matrix",
            "figure",
        ),
        scaling_png=reported(
            BLOSC_FIGURES["scaling_png"],
            "blosc_scaling",
            BLOSC_CATEGORY,
            "throughput against threads",
            "figure",
        ),
        headline=headline("blosc"),
    log:
        "logs/blosc_plots.log",
    localrule: True
    conda:
        "../envs/blosc.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
        disk_mb=50,
    params:
        data=[spec.label for spec in DATA],
        filters=BLOSC["filters"],
    script:
        "../../scripts/blosc_plots.py"
