# Evaluation: `distinctnet eval` (scores JSON + Markdown report). Variables: DATA (ground-truth tree),
# PRED (predicted tree) or CHECKPOINT (label DATA with this model first), EVAL_OUT (default out/eval).
EVAL_OUT ?= out/eval
.PHONY: eval test-eval

## eval        DATA=gt PRED=pred (or CHECKPOINT=c): scores.json + report/ in EVAL_OUT (out/eval)
eval: install
	@test -n "$(DATA)" || { echo "make eval: set DATA=ground-truth tree and PRED=... or CHECKPOINT=..."; exit 2; }
	$(DN) eval --data "$(DATA)" $(if $(PRED),--pred "$(PRED)",--checkpoint "$(CHECKPOINT)") \
		--json $(EVAL_OUT)/scores.json --report $(EVAL_OUT)/report

## test-eval   run the evaluation tests only
test-eval: install
	$(BIN)/python -m pytest -q tests/test_eval_metrics.py tests/test_eval_jf.py tests/test_eval_score.py
