# Two commands take a fresh clone to a working console or a green test run: `make run`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501
# The suite on every core (pytest-xdist), at most four workers: each may start a console and a browser.
PYTEST_WORKERS ?= -n auto --maxprocesses 4

.PHONY: run test test-year-ahead lint bench reset-sandbox

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m console --port $(PORT)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_WORKERS)

# The whole suite with the calendar a year ahead (time-machine, .ci/year-ahead; it is imported before pytest, hence
# the warning filter): no test may depend on today's date.
test-year-ahead: $(STAMP)
	PYTHONPATH=$(CURDIR)/.ci/year-ahead $(BIN)/python -m pytest -W ignore::pytest.PytestAssertRewriteWarning $(PYTEST_WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m tests.bench

reset-sandbox: $(STAMP)
	$(BIN)/python -m sync reset-sandbox
