# The data sources of the config (`data:`): built-in generators and the user's files. This
# job opens every file with its library and refuses what the checks before the run could
# not see (an HDF5 layout, text past a CSV's first rows); every job that reads data waits
# for it, so a bad file stops the run before any measurement.

DATA = source_specs.parse_sources(config["data"])
DATA_BY_LABEL = {spec.label: spec for spec in DATA}


rule data_sources:
    input:
        files=[path for spec in DATA for path in spec.inputs],
    output:
        **reported_table(SOURCES, "data_sources", SUMMARY_CATEGORY, "data sources"),
    log:
        "logs/data_sources.log",
    localrule: True
    conda:
        "../envs/blosc.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
        disk_mb=10,
    params:
        sources=[spec.as_params() for spec in DATA],
        seed=config["seed"],
        sizes=config["blosc"]["sizes"],  # the coverage of the sweep's largest size
    script:
        "../../scripts/data_sources.py"
