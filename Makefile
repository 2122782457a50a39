# The two ways in: `make run` (the server) and `make test` (the whole suite). Each creates
# .venv and installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# The SageMaker Python SDK majors cannot share one environment (v2: sagemaker<3; v3: the
# sagemaker-train package that provides ModelTrainer), so tests/e2e/test_sagemaker_sdk.py runs
# scenario scripts with one of these virtualenvs each. First install: about 25 s (v2, ~310 MB)
# and 55 s (v3, ~940 MB: mlflow comes with it) with PyPI reachable.
SDK2_VENV := .venv-sdk2
SDK3_VENV := .venv-sdk3
SDK2_VERSION := 2.257.7
SDK3_VERSION := 1.27.0
# A stamp per version: changing a version reinstalls that virtualenv on the next run.
SDK2_STAMP := $(SDK2_VENV)/.installed-sagemaker-$(SDK2_VERSION)
SDK3_STAMP := $(SDK3_VENV)/.installed-sagemaker-train-$(SDK3_VERSION)

.PHONY: run test test-docker bench soak fuzz soak-model soak-crash sdk-venvs clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(SDK2_STAMP):
	rm -rf $(SDK2_VENV)
	$(PYTHON) -m venv $(SDK2_VENV)
	$(SDK2_VENV)/bin/pip install --quiet --upgrade pip
	$(SDK2_VENV)/bin/pip install --quiet 'sagemaker==$(SDK2_VERSION)'
	touch $@

$(SDK3_STAMP):
	rm -rf $(SDK3_VENV)
	$(PYTHON) -m venv $(SDK3_VENV)
	$(SDK3_VENV)/bin/pip install --quiet --upgrade pip
	$(SDK3_VENV)/bin/pip install --quiet 'sagemaker-train==$(SDK3_VERSION)'
	touch $@

sdk-venvs: $(SDK2_STAMP) $(SDK3_STAMP)

$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/sagewatch server

test: $(BIN)/.installed sdk-venvs
	$(BIN)/python -m pytest

# The docker runner against a real engine (docs/docker.md: tests/docker/engine.sh start and
# tests/docker/build-images.sh first). Not part of `make test`: CI has no engine.
test-docker: $(BIN)/.installed
	$(BIN)/python -m pytest -m docker tests/e2e/test_runner_docker.py

bench: $(BIN)/.bench-installed
	$(BIN)/python benchmarks/run.py

# Long searches for bugs, beyond the bounded ones in `make test` (each stops by itself):
# the model-driven fuzzer, the model-based Logs test, and kill -9 / restart cycles.
soak: fuzz soak-model soak-crash

fuzz: $(BIN)/.installed
	SAGEWATCH_FUZZ_REQUESTS=200000 $(BIN)/python -m pytest tests/e2e/test_fuzz.py -q

soak-model: $(BIN)/.installed
	SAGEWATCH_MODEL_EXAMPLES=1000 SAGEWATCH_MODEL_STEPS=50 SAGEWATCH_MODEL_ROUNDS=100 \
		$(BIN)/python -m pytest tests/e2e/test_logs_model.py -q

soak-crash: $(BIN)/.installed
	$(BIN)/python benchmarks/soak_crash.py --cycles 200

clean:
	rm -rf $(VENV) $(SDK2_VENV) $(SDK3_VENV) sagewatch-data
