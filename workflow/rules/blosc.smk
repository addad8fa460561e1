# The tutorial's steps 3-4: blosc compression of each data source (the tutorial's
# linspace(0, 100, n) by default) across sizes, timed soundly (autoranged samples, one
# timed job at a time per machine) and without pickle on the safe path. One sweep job per
# (data, method, codec): a job holds one source's arrays and reads only its own file, and
# a cluster runs them in parallel; blosc2's filter pipelines are a loop inside its job,
# like the thread counts. `blosc_plots` gathers the parts into the table, the performance
# ratios, the figures and the filter x codec matrix.

BLOSC = config["blosc"]
BLOSC_JOBS = jobs.blosc_combinations(BLOSC["methods"], BLOSC["codecs"])
BLOSC_CATEGORY = "3. blosc"


rule blosc_sweep:
    input:
        sources="results/data/sources.csv",
        file=lambda wc: DATA_BY_LABEL[wc.data].inputs,
    output:
        csv="results/blosc/parts/{data}/{method}/{codec}.csv",
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
            f"results/blosc/parts/{d.label}/{m}/{c}.csv"
            for d in DATA
            for m, c in BLOSC_JOBS
        ],
    output:
        csv=report(
            "results/blosc/sweep.csv",
            caption="../report/blosc_sweep.rst",
            category=BLOSC_CATEGORY,
            labels=labels("sweep", "table as CSV"),
        ),
        sweep_html=report(
            "results/blosc/sweep.html",
            caption="../report/blosc_sweep.rst",
            category=BLOSC_CATEGORY,
            labels=labels("sweep", "table"),
        ),
        targets=report(
            "results/blosc/targets.csv",
            caption="../report/blosc_targets.rst",
            category=BLOSC_CATEGORY,
            labels=labels("performance ratios", "table as CSV"),
        ),
        targets_html=report(
            "results/blosc/targets.html",
            caption="../report/blosc_targets.rst",
            category=BLOSC_CATEGORY,
            labels=labels("performance ratios", "table"),
        ),
        seed_png=report(
            "results/blosc/seed_loglog.png",
            caption="../report/blosc_seed_loglog.rst",
            category=BLOSC_CATEGORY,
            labels=labels("the tutorial's figure, fixed", "figure"),
        ),
        seed_svg="results/blosc/seed_loglog.svg",
        throughput_png=report(
            "results/blosc/throughput.png",
            caption="../report/blosc_throughput.rst",
            category=BLOSC_CATEGORY,
            labels=labels("throughput against size", "figure"),
        ),
        throughput_svg="results/blosc/throughput.svg",
        ratio_png=report(
            "results/blosc/ratio.png",
            caption="../report/blosc_ratio.rst",
            category=BLOSC_CATEGORY,
            labels=labels("compression ratio", "figure"),
        ),
        matrix_png=report(
            "results/blosc/matrix.png",
            caption="../report/blosc_matrix.rst",
            category=BLOSC_CATEGORY,
            labels=labels("filter x codec matrix", "figure"),
        ),
        scaling_png=report(
            "results/blosc/scaling.png",
            caption="../report/blosc_scaling.rst",
            category=BLOSC_CATEGORY,
        ),
        headline="results/blosc/headline.csv",
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
