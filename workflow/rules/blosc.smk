# The tutorial's steps 3-4: blosc compression of linspace(0, 100, n) across sizes, timed
# soundly (autoranged samples, one timed job at a time per machine) and without pickle on
# the safe path. One sweep job per (method, codec), so a cluster runs them in parallel;
# `blosc_plots` gathers their parts into the table, the performance ratios and the figures.

BLOSC = config["blosc"]
BLOSC_JOBS = jobs.blosc_combinations(BLOSC["methods"], BLOSC["codecs"])
BLOSC_LARGEST_MB = 8 * max(BLOSC["sizes"]) / 2**20  # MB of the largest array
BLOSC_MEMCPY_MB = 2 * max(BLOSC_LARGEST_MB, 256)  # source + target of the memcpy
# Each point: (repeats + 1 probe) calls per operation and thread count; the slowest
# (zstd, pickle) move 0.3 GB/s here: allow 0.05; small sizes last ~2 x min_time per call.
BLOSC_RUNTIME_MIN = 2 + int(
    2
    * len(BLOSC["threads"])
    * (BLOSC["repeats"] + 1)
    * sum(8 * n / 0.05e9 + 2 * BLOSC["min_time"] for n in BLOSC["sizes"])
    / 60
)


rule blosc_sweep:
    output:
        csv="results/blosc/parts/{method}/{codec}.csv",
    log:
        "logs/blosc_sweep_{method}_{codec}.log",
    wildcard_constraints:
        method="pack_array|compress_ptr|blosc2",
        codec="blosclz|lz4|lz4hc|zlib|zstd",
    conda:
        "../envs/blosc.yaml"
    threads: max(BLOSC["threads"])
    resources:
        timing_lock=1,
        # pack_array holds the array, its pickle, the unpacked bytes and two unpacked
        # arrays; the safe path the array, the reused output and one compressed buffer.
        mem_mb=lambda wc: int(
            300
            + max(
                (5 if wc.method == "pack_array" else 3) * BLOSC_LARGEST_MB,
                BLOSC_MEMCPY_MB,
            )
        ),
        runtime=BLOSC_RUNTIME_MIN,
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
            category="3. blosc",
        ),
        targets=report(
            "results/blosc/targets.csv",
            caption="../report/blosc_targets.rst",
            category="3. blosc",
        ),
        seed_png=report(
            "results/blosc/seed_loglog.png",
            caption="../report/blosc_seed_loglog.rst",
            category="3. blosc",
        ),
        seed_svg="results/blosc/seed_loglog.svg",
        throughput_png=report(
            "results/blosc/throughput.png",
            caption="../report/blosc_throughput.rst",
            category="3. blosc",
        ),
        throughput_svg="results/blosc/throughput.svg",
        ratio_png=report(
            "results/blosc/ratio.png",
            caption="../report/blosc_ratio.rst",
            category="3. blosc",
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
