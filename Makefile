# Two targets do all set-up on a fresh machine: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean browser postgresql

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# With no ARGS: `murmur up` (identity, a local home server in the background, the TUI). ARGS runs any command.
run: $(STAMP)
	$(BIN)/murmur $(or $(ARGS),up)

lint: $(STAMP)
	$(BIN)/ruff check --no-cache .

# The web view's browser tests drive Debian's Chromium (Playwright cannot download a browser here); as root on a
# fresh Debian machine this installs it, otherwise the tests fail saying what to install.
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The store's tests run on PostgreSQL too (tests/postgres_server.py starts one server): Debian's package, installed
# the same way.
postgresql:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# pytest exits 5 when it collected no test: that is a failure here, never a pass.
# Two workers: the end-to-end tests wait on other processes (servers, the CLI starting) more than they compute, so
# two at a time keep both cores busy. JOBS=0 runs in one process. Tests are handed out one at a time, longest
# files first (tests/conftest.py, RUN_FIRST): in xdist's default chunks, a worker could be left holding several
# long tests while the other had nothing left to run.
# PYTHONDONTWRITEBYTECODE is set on these machines, and an editable install leaves murmur uncompiled: each of the
# thousands of `murmur` processes the tests start would compile its modules again (a fifth of a second of CPU
# each). Compiled once here (compileall writes whatever that variable says; Python still reads what it finds).
JOBS ?= 2
test: $(STAMP) lint browser postgresql
	$(BIN)/python -m compileall -q -j 0 murmur server client bench
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(JOBS) --maxschedchunk 1 $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$status

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
