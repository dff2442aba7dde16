#!/usr/bin/env bash
# One lent GPU session (this workplace's H100/H200 image: torch, Lightning, timm, OpenCV; no network) in one
# call: install the carried wheels of what the image lacks, then python -m eval.gpu_check. Figures: $OUT.
#
# Prepare here, once (.whl and .gpu are in .gitignore; they travel with `carry`):
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
#     segmentation-models-pytorch==0.6.0 albumentations==2.0.8 albucore==0.0.24 pydantic==2.14.4 \
#     pydantic_core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 typing_extensions==4.16.0 \
#     simsimd==6.5.16 stringzilla==5.3.2 jsonargparse==4.53.0 docstring_parser==0.18.0 typeshed_client==2.15.0 \
#     kornia==0.9.0 kornia_rs==0.2.0
#   .venv/bin/python -c "import av,cv2,pathlib; d=pathlib.Path('.gpu/sample_frames'); d.mkdir(parents=True); \
#     [cv2.imwrite(str(d/f'{i:06d}.png'), f.to_ndarray(format='bgr24')) for i,f in \
#      enumerate(av.open('distinctnet/assets/sample.mp4').decode(video=0))]"
# Run there:  bash eval/recipes/gpu-check.sh [--only train,label ...]    (carry: .whl, .gpu)
set -uo pipefail
OUT=${OUT:-out/gpu-check}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || { echo "gpu-check: installing the carried wheels failed" >&2; exit 1; }
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,utilization.gpu --format=csv
python3 -m eval.gpu_check --out "$OUT" --frames .gpu/sample_frames --batches 1,8,16,32,64,128 \
  --budget-s "${BUDGET_S:-330}" "$@" 2>&1 | tee "$OUT/log.txt"
