# The two ways in: `make run` (the server) and `make test` (the whole suite). Each creates
# .venv and installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench clean

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

clean:
	rm -rf $(VENV) sagewatch-data
