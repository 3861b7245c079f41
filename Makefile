# Proeftuin: `make run` serves the demo at http://127.0.0.1:8000, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n 2

export PROEFTUIN_SITE_NAME ?= Gemeente Veenhoven

.PHONY: run test test-fast check lint fix bench install assets translations messages clean

run: install assets translations
	$(BIN)/proeftuin db upgrade
	$(BIN)/proeftuin demo
	$(BIN)/proeftuin serve --host $(HOST) --port $(PORT)

test: install assets translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The edit-test loop: SQLite only, no browser, no multi-process trust runs, no slow property runs.
test-fast: install assets translations
	PROEFTUIN_TEST_BACKENDS=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS) -m "not slow" \
		--ignore=tests/browser --ignore=tests/trust --ignore=tests/test_two_servers.py

check: install
	$(BIN)/ruff check proeftuin tests benchmarks migrations
	$(BIN)/ruff format --check proeftuin tests benchmarks migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

lint: check

fix: install
	$(BIN)/ruff check --fix proeftuin tests benchmarks migrations
	$(BIN)/ruff format proeftuin tests benchmarks migrations

bench: install assets translations
	$(BIN)/python benchmarks/allocation.py
	$(BIN)/python benchmarks/official.py
	$(BIN)/python benchmarks/counting.py
	$(BIN)/python benchmarks/load.py --db sqlite --requests 6000
	$(BIN)/python benchmarks/load.py --db postgresql --requests 6000 --workers 2
	$(BIN)/python benchmarks/frontend.py
	$(BIN)/python benchmarks/letters.py

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Only the CSS the templates use (NL Design System rules and tokens, then ours), minified: one
# stylesheet for resident pages and one for staff pages; and htmx (package.json "scripts"). Then
# static/dist: each file under a content-hashed name, compressed (brotli, gzip), and the manifest
# of names the app links (proeftuin/web/assets.py).
assets: install node_modules/.package-lock.json
	rm -rf static/vendor static/dist node_modules/.cache/proeftuin-css
	npm run --silent build
	$(BIN)/servestatic --hash --manifest --compress --no-zstd --quiet static/vendor static/dist

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

messages: install
	$(BIN)/pybabel extract -F babel.cfg -o proeftuin/locale/messages.pot --no-location --omit-header \
		$$($(BIN)/python -c 'from proeftuin.i18n import EXTRACT_KEYWORDS as k; print(*("-k " + w for w in k))') .
	$(BIN)/pybabel update -i proeftuin/locale/messages.pot -d proeftuin/locale --no-fuzzy-matching

translations: install
	$(BIN)/pybabel compile -d proeftuin/locale --statistics

clean:
	rm -rf $(VENV) node_modules static/vendor instance
