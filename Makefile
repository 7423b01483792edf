# Two commands do all the set-up: `make run` (server on the embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/feedserver check
	$(BIN)/feedserver serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/ruff check feedserver sources tests bench wsgi.py
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/serve_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
