# Two commands do all the set-up: `make run` starts the demo, `make test` runs the suite.
# Both create .venv when it is missing and reinstall when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

NODE_DIR := tests/interop/node
NODE_STAMP := $(NODE_DIR)/node_modules/.package-lock.json

.PHONY: run test lint install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) scripts/run_demo.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The OpenID interop tests run the certified npm libraries (pinned in the lockfile).
$(NODE_STAMP): $(NODE_DIR)/package-lock.json
	@if command -v npm >/dev/null; then cd $(NODE_DIR) && npm ci --no-audit --no-fund; \
	else echo "npm not found: the interop tests will be skipped"; fi

test: lint $(NODE_STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache $(NODE_DIR)/node_modules
