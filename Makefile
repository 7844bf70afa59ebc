# sheetqueue: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test
# Strict editable mode links each file into one sheetqueue/ tree (mypy reads it);
# a file added to or removed from a package folder needs a re-link.
EDITABLE := --config-settings editable_mode=strict
PACKAGE_DIRS := $(shell find src config sheets worker bot_actions apps_script -type d -not -name __pycache__)
SOURCES := config sheets worker bot_actions src tests bench

.PHONY: demo test lint bench chaos clean install lock postgres node

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements-lock.txt $(PACKAGE_DIRS)
	$(BIN)/pip install --quiet -c requirements-lock.txt $(EDITABLE) -e .
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -c requirements-lock.txt $(EDITABLE) -e '.[test]'
	touch $@

install: $(STAMP)

# The tests start their own PostgreSQL server; Debian's package is installed if no
# initdb is found (once: a no-op when it is there).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
		{ echo "installing Debian's postgresql package for the tests"; \
		  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		  --no-install-recommends postgresql >/dev/null; }

# The Apps Script companion's tests run Code.gs under Node; Debian's nodejs package
# is installed if no node is found.
node:
	@command -v node >/dev/null 2>&1 || \
		{ echo "installing Debian's nodejs package for the tests"; \
		  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		  --no-install-recommends nodejs >/dev/null; }

demo: $(STAMP)
	rm -rf demo-run && mkdir -p demo-run
	cd demo-run && ../$(BIN)/sheetqueue demo

# Two workers (pytest-xdist), each test file on one of them: every server a test starts
# takes a free port, and each worker starts its own PostgreSQL and emulator.
test: $(TEST_STAMP) postgres node
	$(BIN)/pytest -m "not slow" -n 2 --dist loadfile --cov --cov-report=term

lint: $(TEST_STAMP)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy

bench: $(TEST_STAMP) postgres
	$(BIN)/python -m bench

chaos: $(TEST_STAMP) postgres
	$(BIN)/pytest -m slow -p no:cacheprovider -s

# Re-pin every package after changing pyproject.toml's dependencies.
lock: $(TEST_STAMP)
	$(BIN)/pip freeze --exclude-editable > requirements-lock.txt

clean:
	rm -rf $(VENV) build demo-run .pytest_cache .mypy_cache .ruff_cache .coverage
