# The two ways in: `make run` (the server) and `make test` (the whole suite). Each creates
# .venv and installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench soak fuzz soak-model soak-crash clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/sagewatch server

test: $(BIN)/.installed
	$(BIN)/python -m pytest

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
	rm -rf $(VENV) sagewatch-data
