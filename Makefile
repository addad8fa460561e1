# The two commands of the README: `make run` and `make test`.
# Both create .venv from the pinned requirements on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: run smoke test lint clean

$(BIN)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# The run ends with the self-contained HTML report of everything it produced, written
# under a hidden name and renamed when complete: a full disk or a kill while it is being
# written leaves the previous results/report.html as it was.
REPORT_PARTIAL := results/.report.partial.html
run: $(BIN)/.installed
	rm -f $(REPORT_PARTIAL)
	$(BIN)/snakemake --cores all --report $(REPORT_PARTIAL) --report-after-run $(ARGS)
	if [ -s $(REPORT_PARTIAL) ]; then sync $(REPORT_PARTIAL) && mv -f $(REPORT_PARTIAL) results/report.html; fi

# A one-minute run of every stage at toy sizes (tests/configs/tiny.yaml), in smoke/:
# see that everything works before the real run.
smoke: $(BIN)/.installed
	$(BIN)/snakemake -s $(CURDIR)/Snakefile --directory smoke --cores all \
		--configfile $(CURDIR)/config/config.yaml $(CURDIR)/tests/configs/tiny.yaml $(ARGS)

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

clean:
	rm -rf results logs .snakemake smoke
