# The two commands of the README: `make run` and `make test`.
# Both create .venv from the pinned requirements on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: run smoke test lint clean compare

$(BIN)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# The run ends with the self-contained HTML report of everything it produced.
run: $(BIN)/.installed
	$(BIN)/snakemake --cores all --report results/report.html --report-after-run $(ARGS)

# A one-minute run of every stage at toy sizes (tests/configs/tiny.yaml), in smoke/:
# see that everything works before the real run.
smoke: $(BIN)/.installed
	$(BIN)/snakemake -s $(CURDIR)/Snakefile --directory smoke --cores all \
		--configfile $(CURDIR)/config/config.yaml $(CURDIR)/tests/configs/tiny.yaml $(ARGS)

# Timings of two results folders side by side: make compare A=results B=other/results
compare: $(BIN)/.installed
	$(BIN)/python scripts/compare_runs.py $(A) $(B)

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

clean:
	rm -rf results logs .snakemake smoke
