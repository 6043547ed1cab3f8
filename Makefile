# Rapport Guard: `make run` runs the whole system on Apache Kafka or an embedded broker, `make test` passes the tests.
# Both install what they need first (uv, the locked Python dependencies, and for tests the Kafka jars).

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(PYTHON) -m uv)
RUN := $(UV) run --frozen
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install system-deps helm run alerts test test-unit test-integration bench reliability lint format contracts dashboards clean

help:
	@echo "make run     - the whole system on Apache Kafka (or the embedded broker without Java), with a demo"
	@echo "make alerts  - follow the alerts on the broker make run started, one line each (Ctrl-C stops it)"
	@echo "make test    - unit tests, then integration tests on Apache Kafka (or the embedded broker without Java)"
	@echo "make bench   - throughput ratios against baselines from the same run, state size (several minutes)"
	@echo "make reliability - crash/outage/poison/fuzz scenarios on Apache Kafka, with a report"
	@echo "make lint    - ruff and mypy (strict on services/, schemas/ and tests/)"
	@echo "make contracts - regenerate schemas/json and schemas/asyncapi from the code"
	@echo "make dashboards - regenerate deploy/grafana/dashboards/*.json from deploy/grafana/build_dashboards.py"

install: .venv/.installed

.venv/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen
	@touch $@

# Servers the integration tests start on loopback: Redis and Prometheus (with promtool) from Debian's packages,
# kcat, the command-line Kafka client the tests read alerts with, and Chromium, which renders the backtest report.
system-deps:
	@if ! command -v redis-server >/dev/null || ! command -v promtool >/dev/null || ! command -v kcat >/dev/null \
		|| ! command -v openssl >/dev/null || ! command -v chromium >/dev/null; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends redis-server prometheus kcat openssl \
			chromium; \
	fi

# Helm for the chart's tests (tests/unit/test_helm_chart.py), built from its Go module at a pinned version.
HELM_VERSION := v4.3.2
HELM := $(CURDIR)/.cache/bin/helm
helm: $(HELM)

$(HELM):
	GOBIN=$(CURDIR)/.cache/bin go install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)

run: install
	$(RUN) python -m services.devstack.run

alerts: install
	$(RUN) rapport-guard alerts --follow

test: install system-deps helm
	$(RUN) pytest

test-unit: install helm
	$(RUN) pytest tests/unit

test-integration: install system-deps helm
	$(RUN) pytest tests/integration

# Speed targets live here, never in tests: each part prints a ratio against a baseline from the same run.
bench: install system-deps
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends wrk; }
	$(RUN) python -m tests.bench.ingestion
	$(RUN) python -m tests.bench.scoring
	$(RUN) python -m tests.bench.check
	$(RUN) python -m tests.bench.end_to_end
	$(RUN) python -m tests.bench.backtest

# Crash, outage, poison and fuzz scenarios on real processes and Apache Kafka; prints and writes a report.
reliability: install system-deps
	$(RUN) python -m tests.reliability.run

lint: install
	$(RUN) ruff check services schemas tests deploy
	$(RUN) ruff format --check services schemas tests deploy
	$(RUN) mypy

format: install
	$(RUN) ruff check --fix services schemas tests deploy
	$(RUN) ruff format services schemas tests deploy

contracts: install
	$(RUN) python -m services.contracts

dashboards: install
	$(RUN) python deploy/grafana/build_dashboards.py

clean:
	rm -rf .venv .run .pytest_cache .mypy_cache .ruff_cache
