# Labelling: `distinctnet label`. Variables: INPUT (videos, frame folders, bags, trees or a .txt list; default:
# the bundled sample), LABEL_OUT (default out/label), CHECKPOINT (default: the shipped model),
# LABEL_ARGS (more options, e.g. --export robotseg,sam2,coco,overlay --topic /camera/image --shard 0/2).
LABEL_OUT ?= out/label
.PHONY: label bench-label test-label

## label        INPUT=... label recordings into LABEL_OUT (out/label); resumes; LABEL_ARGS for exports etc.
label: install
	$(DN) label $(INPUT) --out "$(LABEL_OUT)" $(if $(CHECKPOINT),--checkpoint "$(CHECKPOINT)") $(LABEL_ARGS)

## bench-label  end-to-end labelling pairs/s (decode + model + write) of the fast preset on this machine
bench-label: install
	$(BIN)/python -m eval.bench_label --preset fast

## test-label   run the labeller's tests only
test-label: install
	$(BIN)/python -m pytest -q tests/test_label_readers.py tests/test_label_runner.py tests/test_label_exports.py \
		tests/test_label_cli.py
