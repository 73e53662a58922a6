# `make demo` and `make test` work on a fresh machine: both create .venv and install into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/riftwatch demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy config store monitors classifiers amplification digest bot riftwatch

test: lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench.bench_classifier

clean:
	rm -rf $(VENV) riftwatch-demo.db*
