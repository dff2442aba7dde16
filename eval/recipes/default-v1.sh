#!/usr/bin/env bash
# Default model v1 (cpu-small family, 128x224), trained from ImageNet weights on this 2-core CPU.
# Unlike v0, no object of the held-out set (data/v0/heldout_ext: YCB 002, 006, 007, 008, 010) is seen in
# training: the composites paste only the other YCB renders and the pybullet objects.
# Data:
#   mkdir data/v1/objects_train; hard-link every data/synth/objects/<name> except 002_*, 006_*, 007_*, 008_*, 010_*
#   distinctnet synth composite data/v1/pairs --robots data/v0/robots --robots data/v0/robots_b \
#       --objects data/v1/objects_train --num 4000 --size 240x416 --seed 11
#   (data/v0/robots, robots_b: Panda + KUKA renders with pybullet objects only, see default-v0.sh;
#    data/synth/moving: moving-object scenes with pybullet objects and YCB 003/004)
# Stages: motion (foreground) -> semantic with warm-up + cosine decay over the step budget, encoder trainable.
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
RUNS=${RUNS:-runs/v3}
ROBOTS=${ROBOTS:-data/v0/robots,data/v0/robots_b}
PAIRS=${PAIRS:-data/v1/pairs}
MOVING=${MOVING:-data/synth/moving}
STEPS_MOTION=${STEPS_MOTION:-150}
STEPS_SEMANTIC=${STEPS_SEMANTIC:-3000}
LR=${LR:-3.0e-4}
COMMON="--trainer.max_epochs=-1 --trainer.check_val_every_n_epoch=null --trainer.limit_val_batches=25 --ckpt_path=last"

[ -f $RUNS/motion.safetensors ] || $DN train --config training/configs/cpu-small-motion.yaml \
  --data.roots="[$PAIRS,$ROBOTS,$MOVING]" --trainer.max_steps=$STEPS_MOTION \
  --model.schedule=cosine --model.warmup_steps=20 \
  --trainer.val_check_interval=$STEPS_MOTION --trainer.default_root_dir=$RUNS/motion \
  --export=$RUNS/motion.safetensors $COMMON

[ -f $RUNS/semantic.safetensors ] || $DN train --config training/configs/cpu-small-semantic.yaml \
  --data.roots="[$PAIRS,$ROBOTS]" --model.init_from=$RUNS/motion.safetensors --model.freeze=[] \
  --model.lr="{encoder: 1.0e-4, merge: $LR, aspp: $LR, decoder: $LR}" \
  --model.schedule=cosine --model.warmup_steps=100 \
  --trainer.max_steps=$STEPS_SEMANTIC --trainer.val_check_interval=500 \
  --trainer.default_root_dir=$RUNS/semantic --export=$RUNS/semantic.safetensors $COMMON
echo "done: $RUNS/semantic.safetensors"
