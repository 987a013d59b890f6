# pecrs: two commands on a fresh machine, `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
UV     := uv==0.13.8
NEED_PYTHON = command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (pecrs needs Python 3.11)"; exit 2; }

.PHONY: run test install lock bench clean browser postgres bytecode

# Everything comes from the lock, hashes checked, pip, setuptools and wheel included: the first install brings the
# venv's own (setuptools 65.5 from ensurepip, below the fix for CVE-2025-47273) to the locked ones, and pecrs is
# then built with those, without build isolation, so nothing unhashed is downloaded.
$(STAMP): pyproject.toml $(LOCK)
	@$(NEED_PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Resolves pyproject.toml (all extras) and requirements-venv.in again for Python 3.11 on Linux x86_64, the machines'
# and CI's, keeping the current pins where they still fit; uv runs from a scratch venv, never the project's.
lock:
	@$(NEED_PYTHON)
	@tool=$$(mktemp -d) && trap 'rm -rf "$$tool"' EXIT \
	  && $(PYTHON) -m venv "$$tool" && "$$tool/bin/python" -m pip install --quiet $(UV) \
	  && "$$tool/bin/uv" pip compile --quiet pyproject.toml requirements-venv.in --all-extras --generate-hashes \
	     --python-version 3.11 --python-platform x86_64-manylinux_2_28 --custom-compile-command 'make lock' \
	     $(LOCK_ARGS) -o $(LOCK)

# pip compiles what it installs, but not an editable project; where PYTHONDONTWRITEBYTECODE is set, every run
# would compile pecrs's modules again (0.3-0.6 s of each run's start). Up-to-date files are skipped.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q pipeline extractors bench >/dev/null

install: $(STAMP)

run: $(STAMP) bytecode
	$(BIN)/pecrs run

test: $(STAMP) browser postgres
	$(BIN)/python -m pytest

# Debian's PostgreSQL server for the store's tests on PostgreSQL: each test session makes a throw-away cluster
# (tests/postgres.py); where it cannot be installed those tests skip (never under CI)
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
	  || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && apt-get update -qq \
	       && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } \
	  || echo "note: PostgreSQL could not be installed: the tests on PostgreSQL will be skipped"

# Debian's Chromium for the web page's browser tests; where it cannot be installed they skip (never under CI)
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "note: Chromium could not be installed: the browser tests will be skipped"

bench: $(STAMP)
	$(BIN)/python bench/quality.py

clean:
	rm -rf $(VENV) .pecrs
