# penstock: two entry points for a fresh machine (Python >= 3.10 and make).
#   make docs   builds the documentation site, with the example app's flows drawn live from code
#   make test   runs ruff, mypy --strict and the whole pytest suite
# Each target creates its own virtualenv (.venv) and installs what it needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: docs serve test lint typecheck pytest bench tools mermaid-js clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Node tools (the real Mermaid, jsdom) used by the tests and copied into the docs for offline
# rendering. Skipped when npm is missing: the tests that need them then skip (or fail under CI=true).
tools/node_modules/.package-lock.json: tools/package.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tools && npm install --no-audit --no-fund --loglevel=error; \
	else \
		echo "npm not found: Mermaid-based checks will be skipped"; \
	fi

tools: tools/node_modules/.package-lock.json

MERMAID_JS := tools/node_modules/mermaid/dist/mermaid.min.js

# The site bundles Mermaid from the npm package, so it renders offline and without a CDN.
mermaid-js: tools
	@test -f $(MERMAID_JS) || { echo "npm is needed for the Mermaid bundled with the docs: install Node.js and npm, then run make docs again"; exit 1; }

docs: $(STAMP) mermaid-js
	$(BIN)/mkdocs build --strict

serve: $(STAMP) mermaid-js
	$(BIN)/mkdocs serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy tests/typing

pytest: $(STAMP) tools
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP) tools
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) site build dist tools/node_modules .mypy_cache .ruff_cache .pytest_cache
