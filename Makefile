# penstock: two entry points for a fresh machine (Python >= 3.10 and make).
#   make docs   builds the documentation site, with the example app's flows drawn live from code
#   make test   runs ruff, mypy --strict, import-linter and the whole pytest suite (in parallel)
# Each target creates its own virtualenv (.venv) and installs what it needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: docs serve test lint typecheck pytest bench tools vendor-js clean

# The editable install also compiles penstock's C modules (hatch_build.py): a change to their
# sources installs again.
$(STAMP): pyproject.toml hatch_build.py penstock/_observed/_scan.c penstock/propagation/_wire.c
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

# penstock ships a pinned Mermaid (and d3 for Sphinx's :zoom:) inside the package, so a docs
# machine needs no npm and no CDN. Refresh the committed copies from tools/ after bumping them
# there, then update MERMAID_VERSION / D3_VERSION in penstock/_bundled.py.
VENDOR := penstock/_static/penstock
vendor-js: tools
	cp tools/node_modules/mermaid11/dist/mermaid.min.js $(VENDOR)/mermaid.min.js
	cp tools/node_modules/mermaid11/LICENSE $(VENDOR)/mermaid.LICENSE.txt
	cp tools/node_modules/d3/dist/d3.min.js $(VENDOR)/d3.min.js
	cp tools/node_modules/d3/LICENSE $(VENDOR)/d3.LICENSE.txt
	@grep '"version"' tools/node_modules/mermaid11/package.json tools/node_modules/d3/package.json

docs: $(STAMP)
	$(BIN)/mkdocs build --strict

serve: $(STAMP)
	$(BIN)/mkdocs serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy tests/typing

# The suite runs on pytest-xdist workers, a test file per worker at a time (its module-scoped
# sites and servers are built once), the longest files first (tests/support/schedule.py).
# Most tests wait on a build, a browser or a server, so more workers than cores pay.
# `make pytest PYTEST_WORKERS=0` runs it in one process.
PYTEST_WORKERS ?= 4
PYTEST_XDIST := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder)

# Bytecode is written even where PYTHONDONTWRITEBYTECODE is set: the suite starts hundreds of
# Python processes (site builds, the CLI, workers, servers), and without the .pyc files each of
# them compiles penstock again, and each xdist worker rewrites every test module's asserts.
pytest: $(STAMP) tools
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest $(PYTEST_XDIST)

test: lint typecheck pytest

bench: $(STAMP) tools
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) site build dist tools/node_modules .mypy_cache .ruff_cache .pytest_cache
