# chainpass: the two commands are `make demo` and `make test`. Both set up what they
# need first (a virtualenv with the pinned Python packages, and the npm tools), and
# re-running them re-installs nothing unless pyproject.toml, constraints.txt or
# package-lock.json changed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The browser tests drive Debian's Chromium (debian-setup): Playwright's own download never runs.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: setup demo test checks lint typecheck unit slither upgrade-check rule-tables translations artifacts check-artifacts bench bench-trace bench-throughput bench-bulk bench-web capacity debian-setup screenshots ape-setup ape-compile ape-check clean

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

# Debian's chromium, fonts-noto-cjk and postgresql, with apt-get when missing (as root, or
# through sudo): the browser tests' and the screenshots' browser (docs/web.md, "In a browser"),
# and the PostgreSQL server the trace index's tests start (docs/operations.md, "A shared index").
debian-setup:
	@sh scripts/debian_setup.sh

# The set-up and the checks two at a time, on CI's two cores (each is mostly one process):
# pip's installs beside npm's and apt's, then ape's install beside the first checks (it only
# adds packages: see ape-setup), then the suite has both cores.
test:
	$(MAKE) --no-print-directory -j2 --output-sync=target debian-setup ape-setup checks
	$(MAKE) --no-print-directory unit

checks: lint typecheck rule-tables slither upgrade-check ape-check

# Python by ruff; Solidity by Prettier with prettier-plugin-solidity (npm, pinned; .prettierrc).
lint: setup
	$(BIN)/ruff check chainpass tests tests_ape scripts
	$(BIN)/ruff format --check chainpass tests tests_ape scripts
	node_modules/.bin/prettier --check 'contracts/**/*.sol' 'tests/contracts/**/*.sol'

typecheck: setup
	$(BIN)/mypy

# Two workers (CI has two cores); each test file runs whole on one worker, with its own Anvil node.
# Under slipcover, which measures the package's line coverage for a few per cent more time
# (coverage.py's tracer doubled it on Python 3.11: docs/development.md); then the figure per
# module and in all. The report by line: .build/coverage.txt.
unit: setup
	@mkdir -p .build
	$(BIN)/python -m slipcover --source chainpass --out .build/coverage.txt -m pytest -n 2 --dist loadfile --durations=15
	@awk '$$1 ~ /^chainpass\// { printf "%-30s %5s lines %5s not run %4s%%\n", $$1, $$2, $$3, $$4 } \
	  $$1 == "(summary)" { printf "chainpass: %s%% of its %s lines run by the suite (%s not); by line: .build/coverage.txt\n", $$4, $$2, $$3 }' \
	  .build/coverage.txt

# The passports' packed rule constants are the readable table's in scripts/rule_tables.py
# (`--write` regenerates them after a change to the table).
rule-tables: setup
	$(BIN)/python scripts/rule_tables.py

# Slither on the artifacts' own build (same sources and settings), every detector; fails on a
# finding not in slither-triage.toml and on a stale entry there (docs/static-analysis.md).
slither: setup
	$(BIN)/python scripts/slither_check.py

# upgrades-core's validate on IdentityRegistry and ProductPassport: upgrade-safe, and a storage
# layout compatible with the last release's (upgrades/reference/<version>/, kept by
# `python scripts/upgrade_check.py --record VERSION`; docs/upgrades.md).
upgrade-check: setup
	$(BIN)/python scripts/upgrade_check.py

# The web pages' catalogues (chainpass/web/locale/*/LC_MESSAGES/chainpass.po, docs/web.md):
# every string of chainpass/web extracted (babel.cfg), each catalogue updated with it; new
# strings wait there for their translation. Nothing is compiled: the service reads the .po files.
translations: setup
	$(BIN)/python scripts/translations.py

artifacts: setup
	$(BIN)/python -m chainpass.compiler

check-artifacts: setup
	$(BIN)/python -m chainpass.compiler --check

bench: setup
	$(BIN)/python scripts/bench_gas.py

# The capacity plan's tables (docs/capacity.md): make bench's gas, sizes and logs times a county's
# and a port's day, on an L1 and an L2 (assumptions as options: scripts/capacity_plan.py --help).
capacity: setup
	$(BIN)/python scripts/capacity_plan.py

bench-trace: setup
	$(BIN)/python scripts/bench_trace.py

bench-throughput: setup
	$(BIN)/python scripts/bench_throughput.py

bench-bulk: setup
	$(BIN)/python scripts/bench_bulk.py

# The load generator is wrk (Debian's: debian-setup installs it when missing); three loads on one service.
bench-web: setup debian-setup
	$(BIN)/python scripts/bench_web.py

# A phone-sized PNG of the passport page (recalled, sold, unknown) in each language, taken in
# Debian's Chromium by the browser tests' own world and service: docs/screenshots/, shown in docs/web.md.
screenshots: setup debian-setup
	CHAINPASS_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q --backend anvil tests/test_web_browser.py::test_screenshots tests/test_web_browser.py::test_desk_screenshots

# ape (issue 6): the pinned ape extra (eth-ape, ape-solidity, ape-foundry) in the same
# venv, and the solc-js shim linked where py-solc-x looks for an installed solc 0.8.37.
# ape-foundry runs the npm Anvil (node_modules/.bin on PATH), on 127.0.0.1 only.
APE_ENV := PATH="$(CURDIR)/node_modules/.bin:$$PATH" SOLCX_BINARY_PATH="$(CURDIR)/.build/solcx" ANVIL_IP_ADDR=127.0.0.1
# A private Anvil on a free port: never a `chainpass node` running on 8545.
APE_PRIVATE := $(APE_ENV) APE_FOUNDRY_HOST=auto

ape-setup: $(VENV)/.ape-installed
	@mkdir -p .build/solcx && ln -sfn ../../tools/solc .build/solcx/solc-v0.8.37

# ape's extras only (pyproject's `ape` list), not chainpass again: the checks that run beside
# this install import chainpass, whose editable install must not be rewritten under them.
$(VENV)/.ape-installed: $(VENV)/.installed pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt $$($(BIN)/python -c \
	  "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['ape']))")
	touch $@

ape-compile: setup ape-setup
	$(APE_ENV) $(BIN)/ape compile

# ape compile; the ape suite (contracts through ape's fixtures, `ape run deploy` against
# chainpass's records both ways, ape's build against the shipped artifacts); then the
# documented command itself, on an Anvil ape starts and stops, into a throwaway home.
ape-check: setup ape-setup
	$(APE_ENV) $(BIN)/ape compile
	$(APE_PRIVATE) $(BIN)/ape test tests_ape
	home=$$(mktemp -d) && trap 'rm -rf "$$home"' EXIT && \
	  $(APE_PRIVATE) $(BIN)/ape run deploy --network ethereum:local:foundry --home "$$home" && \
	  for record in "$$home"/deployments/31337-*.json; do test -s "$$record"; done

clean:
	rm -rf $(VENV) node_modules
