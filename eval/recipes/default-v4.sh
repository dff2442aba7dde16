#!/usr/bin/env bash
# Closed grasps and a sixth embodiment (eval/QUALITY.md rows 21-): after the renderer fix of the robosuite gripper
# limits (before it, the Robotiq 2F-85 and the Sawyer gripper never closed in a render), re-render the strict
# held-out set from its seed, render new training recordings of the robosuite arms and Panda + Robotiq 2F-140,
# continue v3 on them with the whole network trained, average with v3, calibrate small-part thresholds as
# thresholds-v3.sh does, and evaluate. Needs default-v3.sh's asset splits, data and v3 weights (V3 below).
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
V3=${V3:-v3.safetensors}   # git show abbb3d5:distinctnet/assets/default.safetensors > v3.safetensors
V3T=${V3T:-v3t.safetensors}  # v3 with thresholds: git show 7e63298:distinctnet/assets/default.safetensors > v3t.safetensors
RUNS=${RUNS:-runs/v4}
[ -f $V3 ] || { echo "$V3: missing (git show abbb3d5:distinctnet/assets/default.safetensors > $V3)"; exit 2; }
[ -f $V3T ] || { echo "$V3T: missing (git show 7e63298:distinctnet/assets/default.safetensors > $V3T)"; exit 2; }
# 1. held-out: the strict set re-rendered (same seed, closed grasps)
$DN synth robots data/v4/heldout --robots xarm,jaco --count 8 --frames 24 --size 240x416 --seed 950 \
  --objects data/v0/ycb_heldout --no-builtin-objects --textures data/v3/bg_heldout --no-builtin-textures \
  --stop-p 1 --object-p 0.9
[ -d data/v4/heldout_ext ] || $PY -m synth.extend_stop data/v4/heldout data/v4/heldout_ext --static 24
# 2. training renders and composites
$DN synth robots data/v4/robots --robots ur5e,kinova3,sawyer,panda140 --count 28 --frames 16 --size 240x416 \
  --seed 400 --objects data/v1/objects_ycb_train --textures data/v3/bg_train --repaint 0.5
$DN synth composite data/v4/pairs --robots data/v4/robots --objects data/v3/objects --backgrounds data/v3/bg_train \
  --num 3000 --size 240x416 --seed 41 --workers 2
# 3. v3 + 1,500 steps, whole network, on the new data and v3's plain and repainted sets; mean with v3
V=data/v3
[ -f $RUNS/g/semantic.safetensors ] || $DN train --config training/configs/cpu-small-semantic.yaml \
  --data.roots="[data/v4/robots,data/v4/pairs,$V/robots,$V/robots_paint,$V/pairs_paint]" \
  --model.net.input_size="[192,336]" --model.init_from=$V3 --model.init_skip=[] --model.freeze=[] \
  --model.dice_weight=0.5 --model.schedule=cosine --model.warmup_steps=50 --trainer.max_steps=1500 \
  --trainer.val_check_interval=500 --trainer.max_epochs=-1 --trainer.check_val_every_n_epoch=null \
  --trainer.limit_val_batches=25 --data.static_prob=0.15 --seed_everything=4 \
  --model.lr.encoder=3.0e-5 --model.lr.merge=5.0e-5 --model.lr.aspp=5.0e-5 --model.lr.decoder=5.0e-5 \
  --trainer.default_root_dir=$RUNS/g/semantic --export=$RUNS/g/semantic.safetensors --ckpt_path=last
[ -f $RUNS/soup-fp16.safetensors ] || $PY -m training.export $V3 $RUNS/soup-fp16.safetensors \
  --average $RUNS/g/semantic.safetensors --fp16
# 4. small-part thresholds (as thresholds-v3.sh) and held-out evaluations
[ -f $RUNS/default-v4.safetensors ] || $PY -m eval.calibrate --data data/v3/calib --checkpoint \
  $RUNS/soup-fp16.safetensors --classes gripper,object,distractor --write $RUNS/default-v4.safetensors \
  --json $RUNS/thresholds.json --plot $RUNS/thresholds.png
# --reference previous --gap 1: the pairs these figures were measured with (defaults now: motion, gap 2)
for set in v4/heldout_ext v3/heldout2_ext v3/heldout_ext v0/heldout_ext; do
  tag=$(echo $set | tr / -)
  for m in v3t:$V3T v4:$RUNS/default-v4.safetensors; do
    [ -f $RUNS/${m%%:*}-$tag.json ] || $DN eval --data data/$set --checkpoint ${m#*:} --reference previous --gap 1 --second-scale 1 \
      --json $RUNS/${m%%:*}-$tag.json --report $RUNS/${m%%:*}-$tag
  done
done
echo "done: $RUNS/default-v4.safetensors (figures: $RUNS/*.json)"
