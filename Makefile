# The two commands: `make run` and `make test`. Both set everything up on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint format messages bench clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

# SQLite, eager Celery tasks, demo data, the development server on 127.0.0.1:8000.
run: setup
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py seed_demo
	DEBUG=true $(BIN)/python manage.py aggregate_scores --full
	@echo "Open http://127.0.0.1:8000/  (Ctrl-C stops the server)"
	DEBUG=true $(BIN)/python manage.py runserver 127.0.0.1:8000

# The whole suite; browser tests are skipped (with a note) where Chromium is absent.
test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-extract and compile translations (needs gettext); the compiled .mo files are committed.
messages: setup
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=staticfiles --ignore=tests
	$(BIN)/python manage.py compilemessages --ignore=.venv

# Aggregation and rankings figures on PostgreSQL (database `bench`, created and dropped here); not a test.
# 1M ratings by default; `make bench BENCH_ARGS=--10m` for 10M.
bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .test-media .pytest_cache
