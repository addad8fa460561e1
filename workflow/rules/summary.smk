# Every stage's headline figures beside the machine limits of the same run, and the
# "what to use" decision: one row per (job, question, data), its recipe (docs/recipes/),
# and the verdict the report's landing page opens with (results/verdict.rst).


rule summary:
    input:
        limits="results/limits.csv",
        node_limits="results/hugearray/node_limits.csv",
        headlines=[
            f"results/{stage}/headline.csv"
            for stage in ("particles", "blosc", "hugearray")
        ],
        recipes=RECIPES,
    output:
        csv=report(
            "results/summary.csv",
            caption="../report/summary.rst",
            category=SUMMARY_CATEGORY,
            labels=labels(
                "headline figures as fractions of the limits", "table as CSV"
            ),
        ),
        html=report(
            "results/summary.html",
            caption="../report/summary.rst",
            category=SUMMARY_CATEGORY,
            labels=labels("headline figures as fractions of the limits", "table"),
        ),
        png=report(
            "results/summary.png",
            caption="../report/summary.rst",
            category=SUMMARY_CATEGORY,
            labels=labels("fractions of the limits", "figure"),
        ),
        decision_csv=report(
            "results/decision.csv",
            caption="../report/decision.rst",
            category=DECISION_CATEGORY,
            labels=labels("what to use", "table as CSV"),
        ),
        decision_html=report(
            "results/decision.html",
            caption="../report/decision.rst",
            category=DECISION_CATEGORY,
            labels=labels("what to use", "table"),
        ),
        verdict="results/verdict.rst",
    log:
        "logs/summary.log",
    conda:
        "../envs/summary.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
        disk_mb=10,
    script:
        "../../scripts/summary.py"
