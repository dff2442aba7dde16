# Composited fine-tuning pairs (synth/composite.py). Variables: ROBOTS (labelled-recording tree(s) with robot
# masks, required), COMPOSITE_OUT (default out/synth/composite), COMPOSITE_NUM (default 1000),
# COMPOSITE_ARGS (more options, e.g. --objects DIR --backgrounds DIR --workers 2 --seed 1).
COMPOSITE_OUT ?= out/synth/composite
COMPOSITE_NUM ?= 1000
.PHONY: synth-composite bench-composite test-composite

## synth-composite  ROBOTS=tree: composited fine-tuning pairs in COMPOSITE_OUT (+ sheet.png); resumes
synth-composite: install
	@test -n "$(ROBOTS)" || { echo "make synth-composite: set ROBOTS=labelled-recording tree with robot masks"; exit 2; }
	$(DN) synth composite "$(COMPOSITE_OUT)" $(foreach r,$(ROBOTS),--robots "$(r)") \
		--num $(COMPOSITE_NUM) --sheet "$(COMPOSITE_OUT)/sheet.png" $(COMPOSITE_ARGS)

## bench-composite  pairs/hour and MB per 1,000 pairs of the compositing generator on this machine
bench-composite: install
	$(BIN)/python -m eval.bench_composite

## test-composite   run the compositing generator's tests only
test-composite: install
	$(BIN)/python -m pytest -q tests/test_composite.py
