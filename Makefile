# twinbench: `make bench` runs the main job, `make test` runs the tests.
# Both work on a fresh clone: they install what they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test test-fast lint bench microbench upstream-bench loader-ceiling capacity-check clean help

help:
	@echo "make install     create .venv and install twinbench, the apps, servers and tools"
	@echo "make bench       measure the targets (see README)"
	@echo "make test        the whole test suite (real servers, SQLite and PostgreSQL)"
	@echo "make test-fast   only the tests that start no server"
	@echo "make lint        ruff and mypy"
	@echo "make microbench  in-process pytest-benchmark of /json, /db, POST /api/items"
	@echo "make upstream-bench  capacity of the mock upstream (5,000 concurrent waits)"
	@echo "make loader-ceiling  requests/s one Locust process makes on one core (/plaintext)"
	@echo "make capacity-check  capacity predicted by CPU time per request vs wrk (≤ 10 min)"

install: $(STAMP)

# uv is installed into the venv from PyPI, so nothing is needed on the machine but python3.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	bash scripts/system-deps.sh
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# One results folder per `make bench` (evaluated once, so every step below sees the same).
BENCH_PROFILE ?= quick
# `:=` runs `date` once; a `?=` alone would re-run it at every use, and the run and the
# report could name different folders across a second boundary.
BENCH_STAMP   := $(shell date -u +%Y%m%dT%H%M%SZ)
BENCH_DIR     ?= results/$(BENCH_STAMP)-make

bench: install
	$(BIN)/twinbench run --profile $(BENCH_PROFILE) --out $(BENCH_DIR)
	@$(BIN)/twinbench report $(BENCH_DIR) -o reports/latest.html
	@echo "make bench: results in $(BENCH_DIR) (docs/results-format.md)"

microbench: install
	$(BIN)/python -m pytest tests/bench -m bench --benchmark-enable --benchmark-only \
		--benchmark-columns=min,median,iqr,rounds --benchmark-json=.benchmarks/microbench.json

upstream-bench: install
	$(BIN)/python scripts/upstream_capacity.py

loader-ceiling: install
	$(BIN)/python scripts/loader_ceiling.py

# Capacity predicted from CPU µs per request (twinbench run, open model) against wrk's
# saturated req/s, per target and endpoint, one CPU each (scripts/capacity_check.py).
capacity-check: install
	$(BIN)/python scripts/capacity_check.py

clean:
	rm -rf $(VENV) .twinbench .pytest_cache .mypy_cache .ruff_cache

# The HTML report (self-contained, no network): of REPORT_DIRS (oldest first; two folders
# also show the changes), or of the newest folder under results/. Prints the file's path.
.PHONY: report report-bench
REPORT_DIRS ?=
report: install
	@$(BIN)/twinbench report $(if $(strip $(REPORT_DIRS)),$(REPORT_DIRS),--latest) -o reports/latest.html

# Size and generation time of the report (budget: 5 MB, 20 s for the quick profile) and of a
# trend over 10 quick runs (10 MB, 60 s; copies of one run, see scripts/report_bench.py).
report-bench: install
	$(BIN)/python scripts/report_bench.py $(REPORT_DIRS) -o reports/bench.html
	$(BIN)/python scripts/report_bench.py --trend 10 $(firstword $(REPORT_DIRS)) -o reports/bench-trend.html
