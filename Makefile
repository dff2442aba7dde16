# distinctnet: synth -> train -> label -> eval.  `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DN     := $(BIN)/distinctnet

.PHONY: help install test bench demo
help:
	@echo "make install   set up .venv with everything the project needs (CPU or GPU machine)"
	@echo "make test      run the test suite"
	@echo "make demo      label the bundled sample recording with the bundled model (writes out/demo)"
	@echo "make bench     model speed of the presets on this machine"
	@grep -h '^## ' mk/*.mk 2>/dev/null | sed 's/^## /make /' || true

# torchvision goes first: the newest torchvision pins the matching torch from PyPI, which also runs on
# CPU-only machines (a CPU-only torch wheel cannot load the PyPI torchvision builds).
$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install "torchvision>=0.19"
	$(BIN)/python -m pip install -e ".[dev,ray]"
	# the J&F reference implementation, for the metric tests; --no-deps: it would add a second OpenCV
	$(BIN)/python -m pip install --no-deps "vos-benchmark>=0.1"
	touch $@

install: $(VENV)/.installed

# The rendering tests need the renderer's own environment (make render-env); without it they are skipped,
# except under CI, where they fail.
test: install
	$(BIN)/python -m pytest -q

# The main job on the bundled sample recording with the bundled default model: masks + overlay video.
demo: install
	$(DN) label --out out/demo --export overlay,robotseg --overwrite
	@echo "masks: out/demo/mask   overlay video and contact sheet: out/demo/exports/overlay"

bench:
	$(DN) bench --preset fast
	$(DN) bench --preset paper

-include mk/*.mk
