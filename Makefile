# Two commands do everything from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-production test-fast lint migrations-check bench bench-spec bench-editor bench-apply bench-pages bench-validate-load bench-queue install image-rehearsal

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,emulator]'
	@touch $(STAMP)

install: $(STAMP)

## Run the product on embedded defaults (SQLite, ORM broker, one worker, the AWS emulator).
run: $(STAMP)
	$(PY) -m panka_web.launcher

## The whole test suite; .ci/run calls exactly this: the default pass (SQLite, ORM broker),
## then the production pass.
test: $(STAMP)
	$(PY) -m pytest
	@$(MAKE) --no-print-directory test-production

# The production pass: the tests marked `production` (every model, the queue with real
# worker processes, locks, state) on PostgreSQL and the Redis broker. pytest-django
# creates and drops the database test_<name>_<pid>, and the queue name is the run's own
# too, so two runs sharing a server neither drop each other's data nor take its tasks.
PRODUCTION_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
PRODUCTION_REDIS_URL ?= redis://127.0.0.1:6379/13

## The production pass alone; skipped, with a message, where PostgreSQL or Redis is absent.
test-production: $(STAMP)
	@if ! $(PY) tools/probe_services.py "$(PRODUCTION_DATABASE_URL)" "$(PRODUCTION_REDIS_URL)"; then \
	  echo "SKIPPED the production pass (PostgreSQL + Redis): start them on 127.0.0.1 or set PRODUCTION_DATABASE_URL / PRODUCTION_REDIS_URL"; \
	else \
	  echo "production pass: $(PRODUCTION_DATABASE_URL) and $(PRODUCTION_REDIS_URL)"; \
	  DATABASE_URL="$(PRODUCTION_DATABASE_URL)" REDIS_URL="$(PRODUCTION_REDIS_URL)" \
	  PANKA_Q_NAME="panka-test-$$$$" PANKA_TEST_DB_SUFFIX="$$$$" \
	  $(PY) -m pytest -m production -p no:cacheprovider; \
	fi

## Build the Dockerfile with podman and run its image: web, worker, one deploy (root;
## downloads Debian packages and the image's dependencies; tools/image_rehearsal.py).
image-rehearsal: $(STAMP)
	$(PY) tools/image_rehearsal.py

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

migrations-check: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run

bench: bench-spec bench-editor bench-apply bench-pages bench-validate-load bench-queue

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

## List pages with large data (1,000 stacks, 10,000 runs, 100,000 audit events, 2,000 state
## versions) under 20 concurrent clients against gunicorn (2 workers): p50/p95/p99, req/s.
bench-pages: $(STAMP)
	$(PY) bench/pages_bench.py

## Live validation of a 50-component stack under 20 concurrent typists (gunicorn, 2 workers).
bench-validate-load: $(STAMP)
	$(PY) bench/validate_load_bench.py

## 200 no-change deploys over 20 stacks with 2 worker processes: deploys/minute, lock acquire.
bench-queue: $(STAMP)
	$(PY) bench/queue_bench.py
