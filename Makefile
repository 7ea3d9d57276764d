# chainpass: the two commands are `make demo` and `make test`. Both set up what they
# need first (a virtualenv with the pinned Python packages, and the npm tools), and
# re-running them re-installs nothing unless pyproject.toml, constraints.txt or
# package-lock.json changed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint typecheck unit artifacts check-artifacts bench bench-trace ape-compile clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: setup
	$(BIN)/chainpass demo

test: setup lint typecheck unit

lint: setup
	$(BIN)/ruff check chainpass tests scripts
	$(BIN)/ruff format --check chainpass tests scripts

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

artifacts: setup
	$(BIN)/python -m chainpass.compiler

check-artifacts: setup
	$(BIN)/python -m chainpass.compiler --check

bench: setup
	$(BIN)/python scripts/bench_gas.py

.PHONY: bench-throughput
bench-throughput: setup
	$(BIN)/python scripts/bench_throughput.py

bench-trace: setup
	$(BIN)/python scripts/bench_trace.py

# ape compiles through the same shim: py-solc-x finds it as an "installed" solc 0.8.28.
ape-compile: setup
	$(BIN)/pip install --quiet -c constraints.txt -e '.[ape]'
	mkdir -p .build/solcx && ln -sf ../../tools/solc .build/solcx/solc-v0.8.28
	SOLCX_BINARY_PATH=$(CURDIR)/.build/solcx $(BIN)/ape compile

clean:
	rm -rf $(VENV) node_modules
