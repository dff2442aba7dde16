#!/usr/bin/env bash
# Everything a GPU round (eval/recipes/gpu-train.sh) carries, prepared here in one command: the asset splits, the
# training renders (data/v10: 24 recordings of the six training embodiments, half repainted, and object cut-outs;
# ~45 min on a 2-core VM), the bundle at the training size (.gpu-train), the wheels the GPU image lacks (.whl), and
# the size check against the call's 64 MiB. Nothing held out is packed: no xArm or Jaco, no held-out object or photo.
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
source eval/recipes/splits.sh
v10_training_data
[ -d .gpu-train ] || $PY -m eval.gpu_bundle pack --robots data/v10/robots --objects data/v10/objects \
  --backgrounds data/v3/bg_train --out .gpu-train ${PACK_ARGS:-}
[ -d .whl ] || python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
  segmentation-models-pytorch==0.6.0 albumentations==2.0.8 albucore==0.0.24 pydantic==2.14.4 \
  pydantic_core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 typing_extensions==4.16.0 \
  simsimd==6.5.16 stringzilla==5.3.2 jsonargparse==4.53.0 docstring_parser==0.18.0 typeshed_client==2.15.0
$PY -m eval.gpu_bundle size --carry .whl .gpu-train
