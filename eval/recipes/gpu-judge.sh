#!/usr/bin/env bash
# The verdict on a GPU round (eval/recipes/gpu-train.sh): join the two candidates that came back (raw: the shipped
# network after the GPU run; soup: its mean with the shipped weights), then judge both against the shipped model.
#
# Rule, fixed before any GPU run: a candidate replaces the shipped model only if eval/recipes/round_rule.py passes
# on each of two held-out sets (robot and foreground IoU rise, the mean of the four target IoUs rises, gripper and
# object fall by at most 1.0, >= 95% of the robot IoU kept 20 frames into a stop) with, as from row 46 of
# eval/QUALITY.md, `--relative-speed 0.9` (at least 0.9x the shipped model's pairs/s, labelled just before it). If
# both pass, the one with the higher mean of the four target IoUs over the two sets is shipped.
# The sets: first 27-28 (seeds 1490, 1510; committed before they were rendered). Round v10 was then judged on them and
# its results made the GPU recipe add shadows to its composites (gpu-train.sh), so on 2026-12-01, before any GPU run,
# the deciding sets became 31 and 32 (seeds 1570, 1590; not rendered yet). Sets 21-30 are evaluated for the record
# (every one was looked at before: they do not decide).
#
#   bash eval/recipes/gpu-judge.sh FILES_AT       # FILES_AT: the folder the GPU call's files came back to
# Rehearsed on the CPU with the parts of a 40-step CPU run of gpu-train.sh (its header):
#   RUNS=/tmp/gj RECORD=0 bash eval/recipes/gpu-judge.sh /tmp/gt-out
set -euo pipefail
cd "$(dirname "$0")/../.."
FILES=${1:?usage: gpu-judge.sh FILES_AT (the folder holding raw.safetensors.part00 ... and SHA256SUMS)}
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/gpu}
C=${C:-distinctnet/assets/default.safetensors}
source eval/recipes/splits.sh
mkdir -p $RUNS
for m in raw soup; do
  [ -f $RUNS/$m.safetensors ] || $PY -m eval.gpu_bundle join "$FILES"/$m.safetensors.part* --out $RUNS/$m.safetensors
done
cp "$FILES"/log.txt "$FILES"/metrics.csv $RUNS/ 2>/dev/null || true
$PY - $RUNS/raw.safetensors $RUNS/soup.safetensors <<'PYEOF'
import sys
from distinctnet.modeling.checkpoint import read_header
for p in sys.argv[1:]:   # judged at 0.5 everywhere, a candidate would lose gripper and object IoU to the thresholds
    if "thresholds" not in read_header(p)["meta"]:
        sys.exit(f"{p}: no calibrated thresholds (export it with --calibration-from the shipped model)")
PYEOF
MODELS="shipped:$C raw:$RUNS/raw.safetensors soup:$RUNS/soup.safetensors"
DECIDE="31:1570 32:1590"   # the deciding sets (header), K:SEED
KS=$(for ks in $DECIDE; do printf '%s ' "${ks%%:*}"; done)
judge_sets $RUNS "$MODELS" "$DECIDE"
passed=""
for m in raw soup; do
  echo "== $m against the shipped model"
  $PY eval/recipes/round_rule.py $RUNS shipped $m $KS --relative-speed 0.9 && passed="$passed $m" || true
done
if [ "${RECORD:-1}" = 1 ]; then   # RECORD=0 skips them (a rehearsal)
  judge_sets $RUNS "$MODELS" "21:1370 22:1390 23:1410 24:1430 25:1450 26:1470 27:1490 28:1510 29:1530 30:1550"
  for m in raw soup; do
    $PY eval/recipes/round_rule.py $RUNS shipped $m 21 22 23 24 25 26 27 28 29 30 --relative-speed 0.9 || true
  done
fi
SETS="$KS" $PY - $RUNS $passed <<'PYEOF'
import json, os, sys
sys.path.insert(0, "eval/recipes")
from round_rule import judge
runs, passed, sets = sys.argv[1], sys.argv[2:], os.environ["SETS"].split()
if not passed:
    sys.exit(print(f"verdict: no candidate passed on sets {', '.join(sets)}; the shipped model stays"))
gain = {m: sum(judge(*(json.load(open(f"{runs}/{n}-heldout{k}_ext.json")) for n in ("shipped", m)))[1]
               for k in sets) / len(sets) for m in passed}
best = max(gain, key=gain.get)
print("verdict: ship", best, f"(mean change of the four target IoUs on sets {', '.join(sets)}:",
      ", ".join(f"{m} {g:+.2f}" for m, g in gain.items()) + f"); {runs}/{best}.safetensors")
PYEOF
