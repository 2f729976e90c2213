# Two commands take a fresh clone to a working console or a green test run: `make run`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501
# The suite on every core (pytest-xdist), at most four workers: each may start a console and a browser.
PYTEST_WORKERS ?= -n auto --maxprocesses 4

# The one catalog of words (sync/core/words.py): one .po per language, compiled to .mo for the processes to read;
# beside it the domain `argparse` (sync/core/argparse_words.py): argparse's own English msgids with their Dutch.
LOCALES := sync/locale
CATALOGS := $(wildcard $(LOCALES)/*/LC_MESSAGES/messages.po $(LOCALES)/*/LC_MESSAGES/argparse.po)
COMPILED := $(CATALOGS:.po=.mo)
BABEL_EXTRACT = PYTHONPATH=$(CURDIR) $(BIN)/pybabel -q extract -F pyproject.toml --no-location --sort-output \
	--omit-header -o $(LOCALES)/messages.pot console sync
# argparse's messages, read from the source of the Python that runs the link (they change with its version).
ARGPARSE_EXTRACT = $(BIN)/pybabel -q extract --no-default-keywords -k _ -k ngettext:1,2 --no-location \
	--sort-output --omit-header -o $(LOCALES)/argparse.pot "$$($(BIN)/python -c 'import argparse; print(argparse.__file__)')"

.PHONY: run test test-year-ahead lint bench reset-sandbox catalog nodes

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP) $(COMPILED)
	$(BIN)/python -m console --port $(PORT)

test: $(STAMP) $(COMPILED)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_WORKERS)

# The whole suite with the calendar a year ahead (time-machine, .ci/year-ahead; it is imported before pytest, hence
# the warning filter): no test may depend on today's date.
test-year-ahead: $(STAMP) $(COMPILED)
	PYTHONPATH=$(CURDIR)/.ci/year-ahead $(BIN)/python -m pytest -W ignore::pytest.PytestAssertRewriteWarning $(PYTEST_WORKERS)

# After adding, changing or removing a key in code: Babel finds the keys (pybabel extract, keywords and extraction
# method in pyproject.toml), adds the new ones to each language's catalog and drops the unused (pybabel update),
# then compiles them and says what is still untranslated (pybabel compile --statistics). Write the words of a new
# key in both catalogs; tests/test_catalog.py fails until they are there.
# argparse's words get the same treatment in their own domain; only Dutch has a file (English is argparse's own).
catalog: $(STAMP)
	$(BABEL_EXTRACT)
	$(BIN)/pybabel -q update -i $(LOCALES)/messages.pot -d $(LOCALES) -w 120 --no-fuzzy-matching --ignore-obsolete \
		--ignore-pot-creation-date
	$(ARGPARSE_EXTRACT)
	$(BIN)/pybabel -q update -D argparse -i $(LOCALES)/argparse.pot -d $(LOCALES) -l nl -w 120 --no-fuzzy-matching \
		--ignore-obsolete --ignore-pot-creation-date
	$(BIN)/pybabel compile -d $(LOCALES) -D "messages argparse" --statistics

$(LOCALES)/%/LC_MESSAGES/messages.mo: $(LOCALES)/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel -q compile -d $(LOCALES) -l $* -f

$(LOCALES)/%/LC_MESSAGES/argparse.mo: $(LOCALES)/%/LC_MESSAGES/argparse.po $(STAMP)
	$(BIN)/pybabel -q compile -D argparse -d $(LOCALES) -l $* -f

# The type checker reads what to check from pyproject.toml ([tool.mypy]: the product, sync/ and console/).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m tests.bench

reset-sandbox: $(STAMP)
	$(BIN)/python -m sync reset-sandbox

# The distributed mode on one machine, to try it (needs Debian's postgresql): a throwaway Postgres, the sandbox's
# simulators on their own and two nodes, a console on PORT and a worker (tests/nodes_demo.py). Ctrl-C stops them.
nodes: $(STAMP) $(COMPILED)
	$(BIN)/python -m tests.nodes_demo --port $(PORT)
