#!/usr/bin/env bash
# v10 confirmation (eval/QUALITY.md row 46). Round v10 (default-v10.sh: composites with shadows) raised all four
# target IoUs on both of its sets (27, 28) but failed its rule on clause (e), the absolute 3 pairs/s: the VM labelled
# 2.65-2.88 pairs/s with v10 and 2.73-2.80 with the shipped model, back to back; the two networks have the same
# shape and operations. Clause (e) tested the machine, not the candidate, so v10 was not shipped on sets 27-28.
#
# Fixed (and committed) before sets 29 and 30 (seeds 1530, 1550) were rendered: v10 replaces the shipped model only
# if, on each of the two fresh sets, against the shipped model labelled just before it with nothing else running,
# round_rule.py's clauses (a)-(d) hold and, instead of the absolute (e), the candidate labels at least 0.9 times the
# shipped model's pairs/s (`--relative-speed 0.9`, as eval/recipes/exclusive.sh asked of a labeller mode). The
# issue's 3 pairs/s stays a property of the labeller, measured and reported apart.
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/v10c}
C=${C:-distinctnet/assets/default.safetensors}
V10=${V10:-runs/v10s/default-v10.safetensors}
source eval/recipes/splits.sh
[ -f "$V10" ] || RUNS=$(dirname "$V10") bash eval/recipes/default-v10.sh   # makes RUNS/default-v10.safetensors
judge_sets $RUNS "shipped:$C v10:$V10" "29:1530 30:1550"
$PY eval/recipes/round_rule.py $RUNS shipped v10 29 30 --relative-speed 0.9 || true   # the verdict is printed
