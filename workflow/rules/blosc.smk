# The tutorial's steps 3-4: blosc compression of linspace(0, 100, n) across sizes, timed
# soundly (autoranged samples, one timed job at a time per machine) and without pickle on
# the safe path. One sweep job per (method, codec), so a cluster runs them in parallel;
# `blosc_plots` gathers their parts into the table, the performance ratios and the figures.

BLOSC = config["blosc"]
BLOSC_JOBS = jobs.blosc_combinations(BLOSC["methods"], BLOSC["codecs"])
BLOSC_CATEGORY = "3. blosc"


rule blosc_sweep:
    output:
        csv="results/blosc/parts/{method}/{codec}.csv",
    log:
        "logs/blosc_sweep_{method}_{codec}.log",
    benchmark:
        "benchmarks/blosc_sweep_{method}_{codec}.tsv"
    wildcard_constraints:
        method="pack_array|compress_ptr|blosc2",
        codec="blosclz|lz4|lz4hc|zlib|zstd",
    conda:
        "../envs/blosc.yaml"
    threads: max(BLOSC["threads"])
    resources:
        timing_lock=1,
        mem_mb=lambda wc: sizing.blosc_sweep_mem_mb(BLOSC["sizes"], wc.method),
        runtime=sizing.blosc_sweep_runtime(
            BLOSC["sizes"], BLOSC["threads"], BLOSC["repeats"], BLOSC["min_time"]
        ),
        disk_mb=10,  # one small CSV of timings
    params:
        sizes=BLOSC["sizes"],
        clevel=BLOSC["clevel"],
        threads=BLOSC["threads"],
        repeats=BLOSC["repeats"],
        min_time=BLOSC["min_time"],
    script:
        "../../scripts/blosc_sweep.py"


rule blosc_plots:
    input:
        parts=[f"results/blosc/parts/{m}/{c}.csv" for m, c in BLOSC_JOBS],
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
    script:
        "../../scripts/blosc_plots.py"
