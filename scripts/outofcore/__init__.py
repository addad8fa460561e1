"""Library code of the workflow's jobs: one module per stage (its measurements, tables and
figures) and the shared helpers (atomic outputs and logs, timing, safe readers).

The entry scripts in `scripts/`, one per rule, only read `snakemake`'s inputs, params and
outputs and call these functions; the tests import them directly. `outofcore.plan` is
the part the Snakemake process imports itself.
"""
