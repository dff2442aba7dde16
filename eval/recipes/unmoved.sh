#!/usr/bin/env bash
# Mask pieces where nothing ever moved, dropped: `distinctnet label --unmoved drop` (eval/QUALITY.md row 59).
# From a fixed camera, the robot, the grasped object and the distractors each move at some time in a recording, so a
# connected piece of their masks that touches no pixel that changed anywhere in the video is scenery the network took
# for them (a table edge labelled robot, a still can labelled gripper). The robot's unmoving base is kept: it is one
# piece with the links that move (pieces closer than a small gap count as one).
#
# Chosen on sets 47-48 (seeds 1890, 1910; offline, on the shipped labeller's probabilities): set 47 foreground +2.69,
# robot +2.46, gripper +2.35, object +1.90, distractor +0.23; set 48 foreground +0.08, robot -0.01, gripper 0, object
# 0, distractor +0.71. The gain sits in a few videos (one Jaco video's table edge labelled robot: robot +27.8; one
# xArm video's gripper +18.1; one distractor +34.9); most videos' IoU does not change. Without the gap tolerance the set 48
# robot lost 0.72 (a still lower link cut off from the moving arm by a hole in its mask).
#
# The settings, fixed with the rule (distinctnet/label/unmoved.py): a pixel moved when a colour channel of the frame,
# resized to the network's input size and 3x3 box-blurred, changed by more than 12 levels (of 255) between two
# consecutive frames; the union over the whole video, dilated with a 5 x 5 square (the "5 px" of the first wording,
# as chosen); mask pieces closer than 13 px (at the input size; ~17 px of a 240x416 frame) count as one; parts
# robot, gripper, object, distractor.
#
# Rule fixed (and committed) before sets 51-54 (seeds 1990, 2010, 2030, 2050) were rendered. Because the change is a
# pruning that leaves most videos untouched, the gain is judged pooled and the harm per set: `--unmoved drop` becomes
# the labeller's default only if, against today's default (`--unmoved keep`) on the shipped model, both run back to
# back on each set, the default first:
#   (a) the mean over the four sets of the change of the mean of the four target IoUs (foreground, robot, gripper,
#       object) is positive;
#   (b) on each set, none of the five parts (those four and the distractor) falls by more than 0.25;
#   (c) on each set, at least 95% of the robot IoU is kept 20 frames into a stop;
#   (d) over the four sets together it labels at least 0.9 times as many pairs/s as the default (pooled).
# Since row 61 (eval/recipes/unmoved-reach.sh) a robot piece is dropped only when it lies further than 45 input px from
# anything that moved; this recipe's figures (row 59) were measured with the robot held to the small parts' 2 px:
# `git checkout cca96ea` labels as they were (run today, it measures row 61's variant on sets 51-54).
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/unmoved}
C=${C:-distinctnet/assets/default.safetensors}
source eval/recipes/splits.sh
heldout_sets "51:1990 52:2010 53:2030 54:2050"
[ "${RENDER_ONLY:-0}" = 1 ] && exit 0
label_modes $RUNS unmoved "51 52 53 54" "keep drop"
$PY eval/recipes/pooled_rule.py $RUNS keep drop 51 52 53 54
