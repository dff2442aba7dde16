# distinctnet: synth -> train -> label -> eval.  `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DN     := $(BIN)/distinctnet

.PHONY: help install test bench
help:
	@echo "make install   set up .venv with everything the project needs (CPU or GPU machine)"
	@echo "make test      run the test suite"
	@echo "make bench     model speed of the presets on this machine"
	@grep -h '^## ' mk/*.mk 2>/dev/null | sed 's/^## /make /' || true

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# torchvision goes first: the newest torchvision pins the matching torch from PyPI, which also runs on
# CPU-only machines (a CPU-only torch wheel cannot load the PyPI torchvision builds).
install: $(BIN)/python
	$(BIN)/python -m pip install "torchvision>=0.19"
	$(BIN)/python -m pip install -e ".[dev]"

test:
	$(BIN)/python -m pytest -q

bench:
	$(DN) bench --preset fast
	$(DN) bench --preset paper

-include mk/*.mk
