# Adaptation to a user's own robot: `distinctnet adapt` (harvest -> gripper -> composite -> finetune).
# Variables: ROBOT (recording of the robot moving), GRIPPER (optional open/close clip), CHECKPOINT (base; default
# the shipped one), ADAPT_MODEL (output, default out/adapt/model.safetensors), ADAPT_ARGS (more options), and for the
# experiment RENDERED (rendered recordings with ground truth of a robot the base was not trained on).
ADAPT_MODEL ?= out/adapt/model.safetensors
.PHONY: adapt adapt-experiment test-adapt

## adapt       ROBOT=rec [GRIPPER=clip] [CHECKPOINT=base]: adapted ADAPT_MODEL (out/adapt/model.safetensors) + report.md
adapt: install
	@test -n "$(ROBOT)" || { echo "make adapt: set ROBOT=recording of the robot moving (GRIPPER=clip optional)"; exit 2; }
	$(DN) adapt --robot "$(ROBOT)" $(if $(GRIPPER),--gripper "$(GRIPPER)") \
		$(if $(CHECKPOINT),--checkpoint "$(CHECKPOINT)") --out "$(ADAPT_MODEL)" $(ADAPT_ARGS)

## adapt-experiment  RENDERED=tree [CHECKPOINT=base]: IoU per part on held-out videos before/after adapt
adapt-experiment: install
	@test -n "$(RENDERED)" || { echo "make adapt-experiment: set RENDERED=rendered recordings with ground truth"; exit 2; }
	$(BIN)/python -m eval.adapt_experiment --root "$(RENDERED)" --work out/adapt-experiment \
		$(if $(CHECKPOINT),--checkpoint "$(CHECKPOINT)") $(ADAPT_ARGS)

## test-adapt  run the adapt tests only
test-adapt: install
	$(BIN)/python -m pytest -q tests/test_adapt_harvest.py tests/test_adapt_gripper.py tests/test_adapt_chain.py
