# Rapport Guard: `make run` runs the whole system on an embedded broker, `make test` passes the tests.
# Both install what they need first (uv, the locked Python dependencies, and for tests the Kafka jars).

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(PYTHON) -m uv)
RUN := $(UV) run --frozen
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install system-deps run test test-unit test-integration bench lint format contracts clean

help:
	@echo "make run     - the whole system on an embedded broker, with a demo (Ctrl-C stops it)"
	@echo "make test    - unit tests, then integration tests on Apache Kafka (or the embedded broker without Java)"
	@echo "make bench   - throughput against a raw Kafka passthrough, and state size (a few minutes)"
	@echo "make lint    - ruff and mypy (strict on services/ and schemas/)"
	@echo "make contracts - regenerate schemas/json and schemas/asyncapi from the code"

install: .venv/.installed

.venv/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen
	@touch $@

# Servers the integration tests start on loopback: Redis and Prometheus (with promtool) from Debian's packages.
system-deps:
	@if ! command -v redis-server >/dev/null || ! command -v promtool >/dev/null; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends redis-server prometheus; \
	fi

run: install
	$(RUN) python -m services.devstack.run

test: install system-deps
	$(RUN) pytest

test-unit: install
	$(RUN) pytest tests/unit

test-integration: install system-deps
	$(RUN) pytest tests/integration

# Speed targets live here, printed as ratios against a baseline measured in the same run (never in tests).
bench: install system-deps
	$(RUN) python -m tests.bench.scoring

lint: install
	$(RUN) ruff check services schemas tests
	$(RUN) ruff format --check services schemas tests
	$(RUN) mypy

format: install
	$(RUN) ruff check --fix services schemas tests
	$(RUN) ruff format services schemas tests

contracts: install
	$(RUN) python -m services.contracts

clean:
	rm -rf .venv .run .pytest_cache .mypy_cache .ruff_cache
