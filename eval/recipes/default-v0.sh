#!/usr/bin/env bash
# The shipped default model v0 (cpu-small family), trained on this 2-core CPU in ~1 hour.
# Data (rendered with `distinctnet synth robots`, Panda + KUKA only: xArm is held out as an unseen robot):
#   distinctnet synth robots data/v0/robots --robots panda,kuka --count 20 --frames 16 --size 240x416 --seed 100
#   distinctnet synth composite data/v0/pairs --robots data/v0/robots [--robots more panda/kuka trees] \
#       --objects data/synth/objects --num 2400 --size 240x416 --seed 1
# Stages: motion -> semantic -> recurrent with step budgets instead of epochs (CPU time is the limit).
# The semantic stage leaves the siamese encoder trainable (--model.freeze=[]): after a few hundred motion
# steps the encoder is far from converged, and freezing it (the reference recipe) cost accuracy here.
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
RUNS=${RUNS:-runs/v0}
ROBOTS=${ROBOTS:-[data/v0/robots,data/v0/robots_b]}
PAIRS=${PAIRS:-data/v0/pairs}
MOVING=${MOVING:-data/synth/moving}
STEPS_MOTION=${STEPS_MOTION:-300}
STEPS_SEMANTIC=${STEPS_SEMANTIC:-400}
STEPS_RECURRENT=${STEPS_RECURRENT:-120}
STEPS_MORE=${STEPS_MORE:-0}   # the shipped v0: STEPS_MOTION=100 STEPS_SEMANTIC=1500 STEPS_MORE=900, semantic2 export
COMMON="--trainer.max_epochs=-1 --trainer.check_val_every_n_epoch=null --trainer.limit_val_batches=25 --ckpt_path=last"
roots() { echo "[$(echo "$@" | tr ' ' ',')]"; }
R=${ROBOTS#[}; R=${R%]}

[ -f $RUNS/motion.safetensors ] || $DN train --config training/configs/cpu-small-motion.yaml \
  --data.roots="$(roots $PAIRS ${R//,/ } $MOVING)" --trainer.max_steps=$STEPS_MOTION \
  --trainer.val_check_interval=$STEPS_MOTION --trainer.default_root_dir=$RUNS/motion \
  --export=$RUNS/motion.safetensors $COMMON

[ -f $RUNS/semantic.safetensors ] || $DN train --config training/configs/cpu-small-semantic.yaml \
  --data.roots="$(roots $PAIRS ${R//,/ })" --model.init_from=$RUNS/motion.safetensors --model.freeze=[] \
  --trainer.max_steps=$STEPS_SEMANTIC --trainer.val_check_interval=$STEPS_SEMANTIC \
  --trainer.default_root_dir=$RUNS/semantic --export=$RUNS/semantic.safetensors $COMMON

# optional: continue the semantic stage from its export (the shipped default is this export, fp16)
[ "$STEPS_MORE" = 0 ] || [ -f $RUNS/semantic2.safetensors ] || $DN train --config training/configs/cpu-small-semantic.yaml \
  --data.roots="$(roots $PAIRS ${R//,/ })" --model.init_from=$RUNS/semantic.safetensors --model.init_skip=[] \
  --model.freeze=[] --trainer.max_steps=$STEPS_MORE --trainer.val_check_interval=$STEPS_MORE \
  --trainer.default_root_dir=$RUNS/semantic2 --export=$RUNS/semantic2.safetensors $COMMON

[ -f $RUNS/recurrent.safetensors ] || $DN train --config training/configs/cpu-small-recurrent.yaml \
  --data.roots="$(roots ${R//,/ } $MOVING)" --model.init_from=$RUNS/semantic.safetensors \
  --trainer.max_steps=$STEPS_RECURRENT --trainer.val_check_interval=$STEPS_RECURRENT \
  --trainer.default_root_dir=$RUNS/recurrent --export=$RUNS/recurrent.safetensors $COMMON
echo "done: $RUNS/recurrent.safetensors"
