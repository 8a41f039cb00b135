# The two commands: `make serve` (the API on http://127.0.0.1:9000) and
# `make test` (every test). Both install what is missing first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
TOOLS := $(VENV)/.installed

.PHONY: serve test services bench chaos lint build contract package

serve: $(TOOLS)
	$(VENV)/bin/python -m tools.stack serve

# CI's steps, in order (stopping at the first that fails): lint, build,
# the tests, contract, package. Each also runs alone: `make lint` etc.
test: $(TOOLS)
	$(VENV)/bin/python -m tools.stack test

lint: $(TOOLS)
	$(VENV)/bin/python -m tools.stack lint

build: $(TOOLS)
	$(VENV)/bin/python -m tools.stack build

contract: $(TOOLS)
	$(VENV)/bin/python -m tools.stack contract

package: $(TOOLS)
	$(VENV)/bin/python -m tools.stack package

# The stand-ins alone, for running `cargo test` by hand.
services: $(TOOLS)
	$(VENV)/bin/python -m tools.stack services

# Exactly-once money under crashes: the release binaries under killed
# invocations, frozen services and lost webhooks (docs/testing.md). A seed
# replays a run: CHAOS_SEED=42 make chaos; CHAOS_SEEDS=1,2,3 runs several;
# CHAOS_OPERATIONS sets the length (500).
chaos: $(TOOLS)
	cargo build --release --workspace --bins
	$(VENV)/bin/python -m tools.chaos

# Size, cold start and latency of every release binary (docs/performance.md).
bench: $(TOOLS)
	$(VENV)/bin/python -m tools.bench

# Pinned tools (nx-27017, moto, localstripe, aws-sam-cli, cargo-lambda) in a
# project-local virtualenv, reinstalled when the pins change.
$(TOOLS): tools/requirements.txt
	@test -x $(VENV)/bin/pip || $(PYTHON) -m venv $(VENV) || { \
	  echo "python venv failed: on Debian, apt-get install python3-venv"; exit 1; }
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	touch $@
