# The two commands: `make run` and `make test`. Both set everything up on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint format messages backup restore bench bench-submit bench-stuffing bench-dashboard soak vendor-altcha clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

# SQLite, eager Celery tasks, demo data, the development server on 127.0.0.1:8000.
# Mails and posters link to SITE_URL: the development server's own address unless it is set.
RUN_ENV = DEBUG=true SITE_URL=$(or $(SITE_URL),http://127.0.0.1:$(or $(PORT),8000))
run: setup
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	$(RUN_ENV) $(BIN)/python manage.py aggregate_scores --full
	$(RUN_ENV) $(BIN)/python manage.py refresh_dashboards
	@echo "Open http://127.0.0.1:$(or $(PORT),8000)/  (Ctrl-C stops the server)"
	$(RUN_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(or $(PORT),8000)

# The whole suite; browser tests are skipped (with a note) where Chromium is absent.
test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-extract and compile translations (needs gettext); the compiled .mo files are committed.
messages: setup
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=staticfiles --ignore=tests
	$(BIN)/python manage.py compilemessages --ignore=.venv

# The database (pg_dump -Fc of DATABASE_URL; SQLite's backup API without it) and MEDIA_ROOT into
# $(BACKUP_DIR)/<timestamp>/; `make restore FROM=backups/<timestamp>` puts both back (README, "Backups").
BACKUP_DIR ?= backups
backup: setup
	BACKUP_DIR=$(BACKUP_DIR) $(BIN)/python -m config.backup backup

restore: setup
	@test -n "$(FROM)" || { echo "usage: make restore FROM=$(BACKUP_DIR)/<timestamp>"; exit 2; }
	$(BIN)/python -m config.backup restore "$(FROM)"

# Speed targets. Needs DATABASE_URL on PostgreSQL (REDIS_URL optional); starts and stops gunicorn on :8103.
bench: bench-submit bench-scores bench-dashboard

# Load figures by wrk (bench/wrk/*.lua): the rating API and form against a bare raw-SQL insert view, pages against
# a bare template view, over gunicorn on 127.0.0.1:8107, PostgreSQL (database `bench_load`, created and dropped
# here) and Redis (db 7, flushed), every integrity check on; py-spy profiles the misses when it is installed.
BENCH_SUBMIT_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bench_load
BENCH_SUBMIT_REDIS_URL ?= redis://127.0.0.1:6379/7
bench-submit: setup
	BENCH_SUBMIT_DATABASE_URL=$(BENCH_SUBMIT_DATABASE_URL) BENCH_SUBMIT_REDIS_URL=$(BENCH_SUBMIT_REDIS_URL) \
	  $(BIN)/python bench/submit.py $(SUBMIT_ARGS)

# Four ways to stuff ratings and the thirty-phones case, through the real API on a scratch SQLite database.
bench-stuffing: setup
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python bench/stuffing.py $(STUFFING_ARGS)

# Refresh the vendored ALTCHA widget (MIT) from the npm registry; the built file is committed.
ALTCHA_VERSION := 1.5.1
vendor-altcha:
	cd $$(mktemp -d) && npm pack --silent altcha@$(ALTCHA_VERSION) && tar xzf altcha-$(ALTCHA_VERSION).tgz && \
	  cp package/dist/altcha.umd.cjs $(CURDIR)/static/vendor/altcha/altcha.js && \
	  cp package/LICENSE.txt $(CURDIR)/static/vendor/altcha/LICENSE.txt

# Aggregation and rankings figures on PostgreSQL (database `bench`, created and dropped here); not a test.
# 1M ratings by default; `make bench-scores BENCH_ARGS=--10m` for 10M.
bench-scores: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The organization department's dashboard on PostgreSQL (database `bench_dashboard`, created and dropped here):
# precompute jobs timed, then GET /dashboard/ over gunicorn on 127.0.0.1:8105 by wrk; goal p50 <= 300 ms.
bench-dashboard: setup
	$(BIN)/python bench/dashboard.py $(DASHBOARD_ARGS)

# Ten minutes of the production shape on 127.0.0.1:8109 (gunicorn 2 workers, 2 Celery workers, beat) over its
# own PostgreSQL database `bench_soak` (created and dropped here) and Redis db 10 (flushed): 100 ratings/s and
# page reads by wrk; errors, latency, memory per process, rankings lag, folded cells = full recompute.
soak: setup
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) staticfiles .test-media .pytest_cache
