# feedguard: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
JARS := .cache/jars
LAKE ?= lake
SAMPLES ?= samples

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(JARS)/.spark $(JARS)/.kafka ## Create .venv, install the package with dev extras, fetch jars (once)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

$(JARS)/.spark: deploy/jars/spark-jars.pom.xml
	mvn -q -f deploy/jars/spark-jars.pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(JARS)/spark
	touch $@

$(JARS)/.kafka: deploy/jars/kafka-broker.pom.xml
	mvn -q -f deploy/jars/kafka-broker.pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(JARS)/kafka
	touch $@

test: setup ## Run lint and the whole test suite (real Spark, Delta, Kafka, moto, GX)
	$(VENV)/bin/ruff check lib jobs tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

lint: setup ## ruff + mypy (strict on lib/feedguard)
	$(VENV)/bin/ruff check lib jobs tests bench
	$(VENV)/bin/mypy

run: setup ## Generate the sample feeds and ingest them into ./lake, then print the run summary
	$(PY) -m feedguard.cli demo --samples $(SAMPLES) --lake $(LAKE)

clean: ## Remove generated data (lake, samples, caches) but keep .venv and jars
	rm -rf $(LAKE) $(SAMPLES) spark-warehouse metastore_db .pytest_cache test-artifacts

.PHONY: help setup test lint run clean
