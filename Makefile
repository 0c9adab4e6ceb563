# Everything the project needs is installed from here: a fresh clone only needs python3 and npm.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV_DIR := .uv
UV := $(UV_DIR)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS := never
export UV_SYSTEM_CERTS := 1

.PHONY: all install run test lint format typecheck unit synth deploy destroy bench clean

all: test

$(UV):
	$(PYTHON) -m venv $(UV_DIR)
	$(UV_DIR)/bin/pip install --quiet uv==$(UV_VERSION)

# The environment is rebuilt whenever the lock changes.
$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.synced

uv.lock: pyproject.toml | $(UV)
	$(UV) lock --python $(PYTHON)

run: install
	PORT=$(PORT) $(PY) -m local

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: install
	$(VENV)/bin/mypy layers/core/python/assets_core functions local infra_cdk tests

test: lint typecheck
	$(VENV)/bin/pytest

unit: install
	$(VENV)/bin/pytest tests/unit

synth: install
	$(PY) -m infra_cdk.synth

deploy: install
	npx --yes aws-cdk@2.1033.0 deploy --app "$(PY) infra_cdk/app.py"

destroy: install
	npx --yes aws-cdk@2.1033.0 destroy --app "$(PY) infra_cdk/app.py"

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(UV_DIR) cdk.out .pytest_cache .mypy_cache .ruff_cache layers/deps/python
