# The paper's experiments (eval/experiments.md): merge-position ablation (Table II) and downstream
# segmenter comparison (Table III). Both resume: rerunning skips finished variants / arms.
# Variables: SYNTH_DIR (default data/synth: moving/, robots/, pairs/ for training), ABLATION_TRAIN (training
# trees), TEST_DIR (held-out rendered recordings with ground truth, default data/synth/robots_test),
# ABLATION_ARGS (e.g. '--budget-steps 2000 --size 414x736 --encoder resnet50
#   --config training/configs/gpu-motion.yaml'),
# DOWNSTREAM_TRAIN (rendered recordings to auto-label, default SYNTH_DIR/robots), CHECKPOINT (the labeller,
# a semantic model; default the shipped one), DOWNSTREAM_ARGS, EXPERIMENTS_OUT (default out/experiments).
SYNTH_DIR        ?= data/synth
ABLATION_TRAIN   ?= $(SYNTH_DIR)/pairs $(SYNTH_DIR)/robots $(SYNTH_DIR)/moving
TEST_DIR         ?= $(SYNTH_DIR)/robots_test
DOWNSTREAM_TRAIN ?= $(SYNTH_DIR)/robots
EXPERIMENTS_OUT  ?= out/experiments
ABLATION_ARGS    ?=
DOWNSTREAM_ARGS  ?=
.PHONY: ablation downstream test-experiments

## ablation    merge-position ablation: every variant trained with one budget; ABLATION_TRAIN, TEST_DIR, ABLATION_ARGS
ablation: install
	$(BIN)/python -m eval.ablation --train $(ABLATION_TRAIN) --test "$(TEST_DIR)" --work $(EXPERIMENTS_OUT)/ablation \
		--json $(EXPERIMENTS_OUT)/ablation.json $(ABLATION_ARGS)

## downstream  single-frame DeepLabV3+ on auto-labels vs ground truth; DOWNSTREAM_TRAIN, TEST_DIR, CHECKPOINT
downstream: install
	$(BIN)/python -m eval.downstream --train "$(DOWNSTREAM_TRAIN)" --test "$(TEST_DIR)" \
		--work $(EXPERIMENTS_OUT)/downstream --json $(EXPERIMENTS_OUT)/downstream.json \
		$(if $(CHECKPOINT),--checkpoint "$(CHECKPOINT)") $(DOWNSTREAM_ARGS)

## test-experiments  run the experiment-script tests only
test-experiments: install
	$(BIN)/python -m pytest -q tests/test_experiments.py
