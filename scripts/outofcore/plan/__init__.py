"""What the Snakemake process itself imports while it plans the jobs: config checks, the
particle query parser, the lists of jobs, the rules' resource requests.

Standard library only (tests/test_layout.py enforces it): these modules run inside
Snakemake's interpreter, where numpy, PyTables and the other job libraries may not be
installed (`--sdm conda` gives each job its own environment) and would slow every start.
"""
