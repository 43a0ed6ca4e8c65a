# Two entry points for a fresh machine: `make demo` and `make test`. Both create and
# reuse .venv and node_modules; each is rebuilt only when its pin files change.
SHELL := /bin/bash
PY := .venv/bin/python
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
# The CDK app runs as a subprocess of the CDK command line: keep it on the venv.
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: demo test synth lint bench setup clean

setup: .venv/.installed node_modules/.installed

.venv/.installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: setup
	$(PY) -m emulator demo

# Two workers (CI has two cores); a test file stays on one worker, so each file's
# module fixtures are made once. Each worker starts its own emulator.
test: setup
	$(PY) -m pytest -n 2 --dist loadfile

synth: setup
	npx cdk synth --quiet

lint: setup
	$(PY) -m pytest tests/unit/test_static_checks.py tests/unit/test_template_settings.py

# make bench BENCH_ARGS=--quick: without the slow parts (synth, demo); --help lists the rest.
bench: setup
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf .venv node_modules cdk.out
