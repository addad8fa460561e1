# The tutorial's steps 3-4: blosc compression of linspace(0, 100, n) across sizes, timed
# soundly (autoranged samples, one timed job at a time per machine) and without pickle on
# the safe path. One sweep job per (method, codec), so a cluster runs them in parallel;
# `blosc_plots` gathers their parts into the table, the performance ratios and the figures.

BLOSC = config["blosc"]
BLOSC_JOBS = jobs.blosc_combinations(BLOSC["methods"], BLOSC["codecs"])
BLOSC_CATEGORY = "3. blosc"


def blosc_largest_mb():
    """MB of the largest array (float64)."""
    return 8 * max(BLOSC["sizes"]) / 2**20


def blosc_sweep_mem_mb(wildcards):
    """pack_array holds the array, its pickle, the unpacked bytes and two unpacked
    arrays; the safe path the array, the reused output and one compressed buffer; the
    memcpy its source and target (at least 256 MB each, to leave the caches)."""
    arrays = 5 if wildcards.method == "pack_array" else 3
    memcpy_mb = 2 * max(blosc_largest_mb(), 256)
    return int(300 + max(arrays * blosc_largest_mb(), memcpy_mb))


def blosc_sweep_runtime(wildcards):
    """Minutes. Each point: (repeats + 1 probe) calls per operation and thread count; the
    slowest (zstd, pickle) move 0.3 GB/s here: allow 0.05; small sizes last ~2 x min_time
    per call."""
    seconds = sum(8 * n / 0.05e9 + 2 * BLOSC["min_time"] for n in BLOSC["sizes"])
    return 2 + int(2 * len(BLOSC["threads"]) * (BLOSC["repeats"] + 1) * seconds / 60)


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
        mem_mb=blosc_sweep_mem_mb,
        runtime=blosc_sweep_runtime,
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
        ),
        targets=report(
            "results/blosc/targets.csv",
            caption="../report/blosc_targets.rst",
            category=BLOSC_CATEGORY,
        ),
        seed_png=report(
            "results/blosc/seed_loglog.png",
            caption="../report/blosc_seed_loglog.rst",
            category=BLOSC_CATEGORY,
        ),
        seed_svg="results/blosc/seed_loglog.svg",
        throughput_png=report(
            "results/blosc/throughput.png",
            caption="../report/blosc_throughput.rst",
            category=BLOSC_CATEGORY,
        ),
        throughput_svg="results/blosc/throughput.svg",
        ratio_png=report(
            "results/blosc/ratio.png",
            caption="../report/blosc_ratio.rst",
            category=BLOSC_CATEGORY,
        ),
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
