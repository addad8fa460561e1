# Every stage's headline figures beside the machine limits of the same run, and the
# "what to use" decision: one row per (job, question, data), its recipe (docs/recipes/),
# and the verdict the report's landing page opens with (results/verdict.rst).


rule summary:
    input:
        limits=LIMITS,
        node_limits=NODE_LIMITS,
        headlines=[headline(stage) for stage in HEADLINE_STAGES],
        recipes=RECIPES,
    output:
        **reported_table(
            SUMMARY,
            "summary",
            SUMMARY_CATEGORY,
            "headline figures as fractions of the limits",
        ),
        **reported_table(
            DECISION,
            "decision",
            DECISION_CATEGORY,
            "what to use",
            names=("decision_csv", "decision_html"),
        ),
        png=reported(
            SUMMARY_PNG,
            "summary",
            SUMMARY_CATEGORY,
            "fractions of the limits",
            "figure",
        ),
        verdict=VERDICT,
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
