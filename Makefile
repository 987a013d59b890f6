# pecrs: two commands on a fresh machine, `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install bench clean browser bytecode

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (pecrs needs Python 3.11)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# pip compiles what it installs, but not an editable project; where PYTHONDONTWRITEBYTECODE is set, every run
# would compile pecrs's modules again (0.3-0.6 s of each run's start). Up-to-date files are skipped.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q pipeline extractors bench >/dev/null

install: $(STAMP)

run: $(STAMP) bytecode
	$(BIN)/pecrs run

test: $(STAMP) browser
	$(BIN)/python -m pytest

# Debian's Chromium for the web page's browser tests; where it cannot be installed they skip (never under CI)
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "note: Chromium could not be installed: the browser tests will be skipped"

bench: $(STAMP)
	$(BIN)/python bench/quality.py

clean:
	rm -rf $(VENV) .pecrs
