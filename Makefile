# The two commands of the README: `make run` and `make test`.
# Both create .venv from the pinned requirements on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: run report smoke bench test test-fast lint clean compare

$(BIN)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# Snakemake options that run no job (a dry run, unlocking, listing): with one of them in
# ARGS, `make run` writes no report, so a dry run prints the plan and leaves it alone.
NO_JOBS := $(filter -n -np -nq -nr --dry-run --dryrun --unlock --lint --list-rules \
	--list-target-rules --summary --detailed-summary --dag --rulegraph,$(ARGS))
REPORT := --report results/report.html --report-after-run
# `make run` and `make report` write the report under a hidden name and rename it when
# complete: a full disk or a kill while it is written leaves the previous one whole.
PARTIAL := results/.report.partial.html
KEEP_REPORT := if [ -s $(PARTIAL) ]; then sync $(PARTIAL) && mv -f $(PARTIAL) results/report.html; fi

# The run ends with the self-contained HTML report of everything it produced.
run: $(BIN)/.installed
	rm -f $(PARTIAL)
	$(BIN)/snakemake --cores all $(if $(NO_JOBS),,--report $(PARTIAL) --report-after-run) $(ARGS)
	$(KEEP_REPORT)

# The report of the results already there (after a run interrupted before its end).
report: $(BIN)/.installed
	rm -f $(PARTIAL)
	$(BIN)/snakemake --cores all --report $(PARTIAL) $(ARGS)
	$(KEEP_REPORT)

# A run of every stage at toy sizes (tests/configs/tiny.yaml) in smoke/, report
# included (smoke/results/report.html): see that everything works before the real run.
smoke: $(BIN)/.installed
	$(BIN)/snakemake -s $(CURDIR)/Snakefile --directory smoke --cores all \
		--configfile $(CURDIR)/config/config.yaml $(CURDIR)/tests/configs/tiny.yaml \
		$(if $(NO_JOBS),,$(REPORT)) $(ARGS)

# The benchmark (config/bench.yaml: a 10^7-row particle table, a 4 GiB array) in bench/,
# report included, then its headline table: every figure, its limit, the fraction, and
# how busy other processes kept the cores while each job timed.
bench: $(BIN)/.installed
	$(BIN)/snakemake -s $(CURDIR)/Snakefile --directory bench --cores all \
		--configfile $(CURDIR)/config/config.yaml $(CURDIR)/config/bench.yaml \
		$(if $(NO_JOBS),,$(REPORT)) $(ARGS)
	$(if $(NO_JOBS),,$(BIN)/python scripts/headline_table.py bench/results/summary.csv)
	$(if $(NO_JOBS),,$(BIN)/python scripts/cluster_bench.py bench/results/hugearray/cluster_bench.csv)

# Two results folders side by side: make compare A=results B=other/results (fractions of
# the limit and ratios within a run; seconds only when both ran on one machine)
compare: $(BIN)/.installed
	$(BIN)/python scripts/compare_runs.py $(A) $(B)

# One test process per core; tests that share a run or the SLURM cluster stay on one
# (shared_scope in tests/conftest.py), the longest first.
test: $(BIN)/.installed
	$(BIN)/python -m pytest -n auto $(ARGS)

# The fast loop: every test but the real workflow runs, the cluster, the browser and the
# slow ones (markers in pyproject.toml), in about a minute and a half on 2 cores.
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -n auto \
		-m "not workflow and not cluster and not browser and not slow" $(ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

clean:
	rm -rf results logs benchmarks .snakemake smoke bench
