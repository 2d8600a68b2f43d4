# Two commands on a fresh machine: `make run` and `make test` (each creates .venv first).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck clean system-deps

# axe-core (npm) for the accessibility checks of the browser tests; version pinned in package.json
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json
	@if command -v npm >/dev/null; then \
	  npm install --silent --no-audit --no-fund --no-package-lock && touch $(NODE_STAMP); \
	else echo "npm not found: the accessibility checks of the browser tests will skip"; fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP) $(NODE_STAMP)
	$(BIN)/dihflow dev

test: $(STAMP) system-deps $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

# Debian packages the tests use: Chromium for the web pages (Playwright drives the system
# browser; no browser is ever downloaded) and LibreOffice Writer with its Python-UNO bridge for
# the executed agreement's PDF (a resident `soffice --headless`). Installed only when running
# as root and missing; elsewhere those tests skip with the reason.
system-deps:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing chromium (Debian package) for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@if ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing npm (Debian package) for axe-core, the pages' accessibility checks"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
	fi
	@if { ! command -v soffice >/dev/null || ! PATH=/usr/bin:/bin python3 -c 'import uno' 2>/dev/null; } \
	  && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing libreoffice-writer-nogui and python3-uno (Debian packages) for the executed agreement PDF"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-writer-nogui python3-uno >/dev/null; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .mypy_cache .ruff_cache
