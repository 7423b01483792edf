# Two commands do all the set-up: `make run` (server on the embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test lint bench bench-tools check clean chromium screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/feedserver check
	$(BIN)/feedserver serve --host 127.0.0.1 --port $(PORT)

test: $(STAMP) chromium
	$(BIN)/ruff check feedserver sources kinds tests bench wsgi.py
	$(BIN)/lint-imports
	$(BIN)/pytest -q

# The widget screenshots in docs/widgets/ (a test run writes them to a temporary directory).
screenshots: $(STAMP) chromium
	FEEDSERVER_SCREENSHOTS=docs/widgets $(BIN)/pytest -q tests/test_widgets_browser.py -k screenshots

# The widget tests drive Debian's headless chromium, the demo test runs `feedserver serve` under libfaketime:
# installed here when missing, as root or in CI.
chromium:
	@if { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/faketime ]; } && { [ "$$(id -u)" = 0 ] || [ "$$CI" = true ]; }; then \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium chromium-driver faketime; \
	fi

bench: $(STAMP) bench-tools
	$(BIN)/python bench/scale_bench.py
	$(BIN)/python bench/widget_size.py
	$(BIN)/python bench/inbox_storm.py

# The scale benchmark loads with wrk and compares with nginx (Debian packages): installed when missing, as root
# or in CI; without them it says so and measures what it can.
bench-tools:
	@if { [ ! -x /usr/bin/wrk ] || [ ! -x /usr/sbin/nginx ]; } && { [ "$$(id -u)" = 0 ] || [ "$$CI" = true ]; }; then \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq wrk nginx-light; \
	fi

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
