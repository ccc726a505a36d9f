# Two commands do all the set-up: `make run` starts the demo, `make test` runs the suite.
# Both create .venv when it is missing and reinstall when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

NODE_DIR := tests/interop/node
NODE_STAMP := $(NODE_DIR)/node_modules/.package-lock.json
E2E_NODE_DIR := tests/e2e/node
E2E_NODE_STAMP := $(E2E_NODE_DIR)/node_modules/.package-lock.json

# The interface's catalogs: the .po files live in git, the compiled .mo files are built here.
TRANSLATIONS := gateway/translations
CATALOGS := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)

.PHONY: run cluster test lint typecheck install clean translations messages

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

translations: $(STAMP) $(CATALOGS:.po=.mo)

%/LC_MESSAGES/messages.mo: %/LC_MESSAGES/messages.po | $(STAMP)
	$(VENV)/bin/pybabel compile --statistics -d $(TRANSLATIONS) -l $(notdir $*)

# After changing user-visible strings: re-extract, merge into every catalog, then translate.
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _l --project="Diary Gateway" \
		-o $(TRANSLATIONS)/messages.pot gateway
	$(VENV)/bin/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --ignore-obsolete

run: $(STAMP) translations
	$(PY) scripts/run_demo.py

# The demo as two gateway instances behind haproxy, with two workers; it needs
# DATABASE_URL (PostgreSQL) and REDIS_URL (docs/operators.md, "Several instances").
cluster: $(STAMP) translations
	$(PY) scripts/run_cluster.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy, strict, on the paths [tool.mypy] lists in pyproject.toml.
typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The OpenID interop tests run the certified npm libraries (pinned in the lockfile).
$(NODE_STAMP): $(NODE_DIR)/package-lock.json
	@if command -v npm >/dev/null; then cd $(NODE_DIR) && npm ci --no-audit --no-fund; \
	else echo "npm not found: the interop tests will be skipped"; fi

# The browser tests inject axe-core (pinned in the lockfile) into every page.
$(E2E_NODE_STAMP): $(E2E_NODE_DIR)/package-lock.json
	@if command -v npm >/dev/null; then cd $(E2E_NODE_DIR) && npm ci --no-audit --no-fund; \
	else echo "npm not found: the accessibility tests will be skipped"; fi

test: lint typecheck translations $(NODE_STAMP) $(E2E_NODE_STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache $(NODE_DIR)/node_modules $(E2E_NODE_DIR)/node_modules
	find $(TRANSLATIONS) -name "*.mo" -delete
