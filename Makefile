# Two commands do everything from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-fast lint migrations-check bench bench-spec bench-editor bench-apply install

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Run the product on embedded defaults (SQLite, ORM broker, one worker, the AWS emulator).
run: $(STAMP)
	$(PY) -m panka_web.launcher

## The whole test suite; .ci/run calls exactly this.
test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

migrations-check: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run

bench: bench-spec bench-editor bench-apply

## Benchmark the stack-format engine: validate + plan of 20/200/1,000 components vs C compose.
bench-spec: $(STAMP)
	$(PY) bench/spec_bench.py

## The editor's live-validation request, end to end (p50/p95/p99).
bench-editor: $(STAMP)
	$(PY) bench/editor_bench.py

## Benchmark the executor: a 60-component stack applied with parallelism 8 vs 1 (+200 ms per
## mutating AWS call on a private emulator), and a no-change re-apply.
bench-apply: $(STAMP)
	$(PY) bench/apply_bench.py
