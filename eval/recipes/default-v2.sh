#!/usr/bin/env bash
# Default model v2 (cpu-small family): v0 continued at a larger input with the siamese encoder frozen.
# Trained on the 2-core CPU in ~30 min per 1,500 steps (eval/QUALITY.md rows 7-9).
# Needs:
#   - the fp32 v0 ($BASE): eval/recipes/default-v0.sh with STEPS_MOTION=100 STEPS_SEMANTIC=1500 STEPS_MORE=900
#     (its semantic2 export; here runs/v2/semantic.safetensors);
#   - the data of v0 and v1 (see default-v0.sh, default-v1.sh): data/v0/pairs, data/v1/pairs, and the Panda + KUKA
#     renders data/v0/robots, data/v0/robots_b. With REPAINT=1 the v1 composites are made again with the robot
#     repainted in 70% of the pairs:
#       distinctnet synth composite data/v1/pairs_repaint --robots data/v0/robots --robots data/v0/robots_b \
#           --objects data/v1/objects_train --num 4000 --seed 12 --repaint 0.7
# Then: the fp16 copy that ships, and its held-out evaluation (data/v0/heldout_ext: 2 xArm, 2 Panda, 1 KUKA).
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
BASE=${BASE:-runs/v2/semantic.safetensors}
RUNS=${RUNS:-runs/v5}
SIZE=${SIZE:-192,336}
STEPS=${STEPS:-1500}
PAIRS=${PAIRS:-data/v0/pairs,data/v1/pairs}
[ "${REPAINT:-0}" = 1 ] && PAIRS=data/v0/pairs,data/v1/pairs_repaint
ROBOTS=${ROBOTS:-data/v0/robots,data/v0/robots_b}
HELDOUT=${HELDOUT:-data/v0/heldout_ext}

[ -f $RUNS/semantic.safetensors ] || $DN train --config training/configs/cpu-small-semantic.yaml \
  --data.roots="[$PAIRS,$ROBOTS]" --model.net.input_size="[$SIZE]" \
  --model.init_from=$BASE --model.init_skip=[] --model.freeze=[siamese] \
  --model.schedule=cosine --model.warmup_steps=50 --trainer.max_steps=$STEPS --trainer.val_check_interval=500 \
  --trainer.max_epochs=-1 --trainer.check_val_every_n_epoch=null --trainer.limit_val_batches=25 \
  --trainer.default_root_dir=$RUNS/semantic --export=$RUNS/semantic.safetensors

$PY -m training.export $RUNS/semantic.safetensors $RUNS/default-fp16.safetensors --fp16
# --reference previous --gap 1: the pairs these figures were measured with (defaults now: motion, gap 2)
$DN eval --data $HELDOUT --checkpoint $RUNS/default-fp16.safetensors --reference previous --gap 1 --second-scale 1 \
  --json $RUNS/heldout.json \
  --report $RUNS/heldout-report
echo "done: $RUNS/default-fp16.safetensors (held-out figures: $RUNS/heldout.json)"
