# Asset splits from ../shared/assets (copies under data/, nothing committed); sourced by the recipes.
# Held out: 5 YCB objects and 6 background photos; the rest trains.
A=${A:-../shared/assets}
split() {  # split SRC DEST PATTERN... : copy SRC's entries matching a pattern into DEST (once)
  local src=$1 dest=$2; shift 2
  [ -d "$dest" ] && return 0
  mkdir -p "$dest.tmp"
  for p in "$@"; do cp -r $src/$p "$dest.tmp/"; done
  cp $src/LICENSE.md "$dest.tmp/"
  mv "$dest.tmp" "$dest"
}
split $A/ycb data/v0/ycb_heldout 002_* 006_* 007_* 008_* 010_*
split $A/ycb data/v1/objects_ycb_train 003_* 004_* 005_* 009_* 035_*
split $A/backgrounds data/v3/bg_heldout 'humus_FortPoint_*' 'humus_Medborgarplatsen_*' 'humus_Storforsen4_*' \
  'humus_Yokohama3_*' skimage_coffee.jpg skimage_chelsea.jpg
if [ ! -d data/v3/bg_train ]; then
  mkdir -p data/v3/bg_train.tmp
  for f in $A/backgrounds/*.jpg; do [ -e data/v3/bg_heldout/$(basename $f) ] || cp $f data/v3/bg_train.tmp/; done
  cp $A/backgrounds/LICENSE.md data/v3/bg_train.tmp/ && mv data/v3/bg_train.tmp data/v3/bg_train
fi

# The labeller's pairs before 2026-11-30 (the figures of eval/QUALITY.md rows 1-26 were measured with them): frame t
# with t-1, no still-frame reference. Today's defaults are --reference motion --gap 2.
PLAIN_PAIRS="--reference previous --gap 1 --second-scale 1"

# heldout_set DIR SEED: 8 xArm/Jaco recordings with held-out objects and photos and a motion stop each, then
# DIR_ext with every stop lengthened to 24 still frames (the closed-grasp held-out sets of QUALITY.md rows 21-).
heldout_set() {
  $DN synth robots "$1" --robots xarm,jaco --count 8 --frames 24 --size 240x416 --seed "$2" \
    --objects data/v0/ycb_heldout --no-builtin-objects --textures data/v3/bg_heldout --no-builtin-textures \
    --stop-p 1 --object-p 0.9
  [ -d "$1_ext" ] || $PY -m synth.extend_stop "$1" "$1_ext" --static 24
}

# heldout_sets "K:SEED ...": render held-out set K from SEED (data/v4/heldoutK{,_ext}) where it is missing.
heldout_sets() {
  local ks k
  for ks in $1; do
    k=${ks%%:*}
    [ -d data/v4/heldout${k}_ext ] || heldout_set data/v4/heldout$k ${ks#*:}
  done
}

# label_modes RUNS OPTION "K ..." "MODE ...": the model $C on held-out set K (a "K:SEED" entry is read as K) with
# `--OPTION MODE`, into RUNS/heldoutK_ext-MODE{.json,/} with its masks in RUNS/pred-K-MODE, skipping reports already
# there. How the labeller-option recipes (exclusive.sh, exclusive-confirm.sh) compare modes.
label_modes() {
  local runs=$1 opt=$2 ks k mode out
  mkdir -p $runs
  for ks in $3; do
    k=${ks%%:*}
    for mode in $4; do
      out=$runs/heldout${k}_ext-$mode
      [ -f $out.json ] || $DN eval --data data/v4/heldout${k}_ext --checkpoint $C --$opt $mode \
        --json $out.json --report $out --out $runs/pred-$k-$mode
    done
  done
}

# judge_sets RUNS "NAME:CHECKPOINT ..." "K:SEED ...": how the default-model rounds judge a candidate. Renders the
# held-out sets that are missing (set K from SEED; all of them first), then evaluates each model on each set into
# RUNS/NAME-heldoutK_ext{.json,/} with its masks in RUNS/pred-NAME-K, skipping reports already there. The verdict:
# eval/recipes/round_rule.py RUNS SHIPPED CANDIDATE K...
judge_sets() {
  local runs=$1 models=$2 sets=$3 ks k m out
  heldout_sets "$sets"
  for ks in $sets; do
    k=${ks%%:*}
    for m in $models; do
      out=$runs/${m%%:*}-heldout${k}_ext
      [ -f $out.json ] || $DN eval --data data/v4/heldout${k}_ext --checkpoint ${m#*:} --json $out.json --report $out \
        --out $runs/pred-${m%%:*}-$k
    done
  done
}

# continue_default RUNS INIT SEED ROOTS [STEPS] [SIZE]: the default-model rounds' training (v7's settings, QUALITY.md
# rows 38-): INIT continued on the trees ROOTS (comma-separated) for STEPS steps (default 1,200) of batch 4 at SIZE
# (H,W; default 192,336),
# whole network, Dice term, 15% motion-stop pairs, pairs up to two frames apart, cosine decay after 50 warm-up steps,
# into RUNS/g/semantic.safetensors (resumes from its last checkpoint; skipped when the file is there).
continue_default() {
  local runs=$1 init=$2 seed=$3 roots=$4 steps=${5:-1200} size=${6:-192,336}
  [ -f $runs/g/semantic.safetensors ] || $DN train --config training/configs/cpu-small-semantic.yaml \
    --data.roots="[$roots]" \
    --model.net.input_size="[$size]" --model.init_from=$init --model.init_skip=[] --model.freeze=[] \
    --model.dice_weight=0.5 --model.schedule=cosine --model.warmup_steps=50 --trainer.max_steps=$steps \
    --trainer.val_check_interval=400 --trainer.max_epochs=-1 --trainer.check_val_every_n_epoch=null \
    --trainer.limit_val_batches=25 --data.static_prob=0.15 --data.max_gap=2 --seed_everything=$seed \
    --model.lr.encoder=3.0e-5 --model.lr.merge=5.0e-5 --model.lr.aspp=5.0e-5 --model.lr.decoder=5.0e-5 \
    --trainer.default_root_dir=$runs/g/semantic --export=$runs/g/semantic.safetensors --ckpt_path=last
}

# six_robot_renders DIR SEED [COUNT [OPTION...]]: COUNT (default 24) training recordings of the six training
# embodiments (16 frames at 240x416, training objects and photos, half repainted; ~20-45 min for 24 on a 2-core VM)
# into DIR from SEED, with any further `synth robots` OPTIONs; a partly rendered folder is resumed. data/v10/robots
# (seed 700), data/v13/robots (seed 800, default-v13.sh), the calibration set data/v10/calib (thresholds-v10.sh).
six_robot_renders() {
  local dir=$1 seed=$2 count=${3:-24}
  shift $(( $# < 3 ? $# : 3 ))
  [ -f "$dir/meta.json" ] && [ "$(ls "$dir/meta.d" | wc -l)" -ge "$count" ] || \
    $DN synth robots "$dir" --robots ur5e,kinova3,sawyer,panda140,panda,kuka --count "$count" --frames 16 \
      --size 240x416 --seed "$seed" --objects data/v1/objects_ycb_train --textures data/v3/bg_train --repaint 0.5 "$@"
}

# v10_objects: the training objects' cut-outs the composites of rounds v10 on paste (data/v10/objects).
v10_objects() {
  [ -d data/v10/objects ] || $DN synth objects data/v10/objects --objects data/v1/objects_ycb_train --count 30 --views 6
}

# v10_training_data: the training renders of rounds v10 on (data/v10/robots, six_robot_renders from seed 700) and
# v10_objects. gpu-bundle.sh packs them; default-v10.sh, default-v11.sh, default-v12.sh, control-v10.sh composite them.
v10_training_data() {
  v10_objects
  six_robot_renders data/v10/robots 700
}
