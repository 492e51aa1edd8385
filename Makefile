# Quick start: `make demo` runs the platform end to end, `make test` runs the tests.
# Both create .venv, install the platform and resolve the JVM jars first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JARS := .jars
export PYTHONDONTWRITEBYTECODE :=
export TZ := UTC

.PHONY: install setup jars demo test test-slow test-all bench lint clean

# install: the venv and the jars; setup adds the class archive (below) that local sessions use
install: $(VENV)/.installed jars

setup: install
	@$(BIN)/python -m lake.platform.class_archive

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev]"
	touch $@

# JVM dependencies pinned in infra/jvm/pom.xml, resolved once into .jars (no downloads at run time).
# `setup` then builds the local driver JVM's class archive there, once per installation
# (lake/platform/class_archive.py: about two minutes; each local Spark session starts warmer).
jars: $(JARS)/.resolved

$(JARS)/.resolved: infra/jvm/pom.xml
	@if command -v mvn >/dev/null; then \
		mvn -q -f infra/jvm/pom.xml dependency:copy-dependencies -DoutputDirectory=$(CURDIR)/$(JARS) \
		&& touch $@; \
	else \
		echo "Maven not found: Spark will fetch the Delta jars with spark.jars.packages"; \
	fi

demo: setup
	$(BIN)/python -m examples.retail.demo

# Test processes: each has one Spark session; two share this machine's cores well.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

# The suite a developer reruns after each change; `make test-slow` runs the cases marked slow
# (whole example projects, the new-user e2e through Airflow, a million rows); CI runs both.
# The quick suite does not wait for the class archive: its two long-lived sessions gain less
# from it (15-40 s) than a first build costs (about two minutes); it uses one already built.
test: install
	$(BIN)/ruff check .
	$(PYTEST) -m "not slow"

test-slow: setup
	$(PYTEST) -m slow

test-all: test test-slow

# Benchmarks (not tests): every tests/bench/bench_*.py, each printing ratios measured in one run.
bench: setup
	@set -e; for f in tests/bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f; done

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf .lakehouse $(JARS) .pytest_cache
