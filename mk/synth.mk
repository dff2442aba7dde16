# Synthetic data: BlenderProc renders (own venv: bpy 4.2 needs numpy 1.x), composited pairs, contact sheets.
# Included by the Makefile. `make synth` = the small preset (a few minutes on a 2-core CPU);
# scale it with e.g. `make synth SYNTH_ROBOTS=500 SYNTH_MOVING=4500 SYNTH_PAIRS=50000`.
RENDER_VENV   ?= .venv-render
RENDER_PY     := $(RENDER_VENV)/bin/python
RENDER_STAMP  := $(RENDER_VENV)/.installed
SYNTH_DIR     ?= data/synth
SYNTH_ASSETS  ?= ../shared/assets
SYNTH_SEED    ?= 0
SYNTH_SIZE    ?= 240x320
SYNTH_SAMPLES ?= 16
SYNTH_ROBOTS  ?= 6
SYNTH_FRAMES  ?= 12
SYNTH_MOVING  ?= 6
SYNTH_OBJECTS ?= 16
SYNTH_PAIRS   ?= 200
SYNTH_SHARD   ?= 0/1
# optional asset folders (YCB meshes, background photos) when they exist beside the project
SYNTH_OBJ_ARGS := $(if $(wildcard $(SYNTH_ASSETS)/ycb),--objects $(SYNTH_ASSETS)/ycb)
SYNTH_TEX_ARGS := $(if $(wildcard $(SYNTH_ASSETS)/backgrounds),--textures $(SYNTH_ASSETS)/backgrounds)
SYNTH_BG_ARGS  := $(if $(wildcard $(SYNTH_ASSETS)/backgrounds),--backgrounds $(SYNTH_ASSETS)/backgrounds)
SYNTH_COMMON   = --seed $(SYNTH_SEED) --size $(SYNTH_SIZE) --samples $(SYNTH_SAMPLES) --shard $(SYNTH_SHARD) \
                 --render-python $(RENDER_PY) $(SYNTH_OBJ_ARGS) $(SYNTH_TEX_ARGS)

.PHONY: render-env synth synth-robots synth-moving synth-objects synth-pairs synth-sheets bench-render

## render-env      create .venv-render (bpy 4.2, BlenderProc 2.8, pybullet assets) for the renderers
render-env: $(RENDER_STAMP)

$(RENDER_STAMP): synth/render/requirements.txt synth/render/requirements-assets.txt
	test -x $(RENDER_PY) || $(PYTHON) -m venv $(RENDER_VENV)
	$(RENDER_PY) -m pip install -q --upgrade pip
	$(RENDER_PY) -m pip install -q -r synth/render/requirements.txt
	$(RENDER_PY) -m pip install -q --no-deps -r synth/render/requirements-assets.txt
	PYTHONPATH=. $(RENDER_PY) -c "import numpy, cv2, pybullet_data, urchin; assert numpy.__version__.startswith('1.'); \
	  from synth.render.mjcf import robosuite_assets; robosuite_assets(); \
	  from synth.render.bproc_boot import boot; boot(); print('render environment ok')" > /dev/null
	touch $@

## synth           small synthetic set: robot + moving-object renders, object cut-outs, composites, sheets
synth: synth-robots synth-moving synth-objects synth-pairs synth-sheets

## synth-robots    render robot recordings into $(SYNTH_DIR)/robots
synth-robots: $(RENDER_STAMP)
	$(DN) synth robots $(SYNTH_DIR)/robots --count $(SYNTH_ROBOTS) --frames $(SYNTH_FRAMES) $(SYNTH_COMMON)

## synth-moving    render stage-1 moving-object sequences into $(SYNTH_DIR)/moving
synth-moving: $(RENDER_STAMP)
	$(DN) synth moving $(SYNTH_DIR)/moving --count $(SYNTH_MOVING) --frames 10 $(SYNTH_COMMON)

## synth-objects   render RGBA object cut-outs into $(SYNTH_DIR)/objects
synth-objects: $(RENDER_STAMP)
	$(DN) synth objects $(SYNTH_DIR)/objects --count $(SYNTH_OBJECTS) --views 6 --size 192x192 \
	  --seed $(SYNTH_SEED) --samples $(SYNTH_SAMPLES) --shard $(SYNTH_SHARD) --render-python $(RENDER_PY) \
	  $(SYNTH_OBJ_ARGS)

## synth-pairs     composite fine-tuning pairs into $(SYNTH_DIR)/pairs (robot renders + object cut-outs)
synth-pairs:
	$(DN) synth composite $(SYNTH_DIR)/pairs --robots $(SYNTH_DIR)/robots \
	  --objects $(SYNTH_DIR)/objects $(SYNTH_BG_ARGS) --num $(SYNTH_PAIRS) --size $(SYNTH_SIZE) --seed $(SYNTH_SEED)

## synth-sheets    contact sheets of everything under $(SYNTH_DIR) (PNG, next to the data)
synth-sheets:
	set -e; for d in robots moving objects pairs; do \
	  if [ -d $(SYNTH_DIR)/$$d ]; then $(DN) synth sheet $(SYNTH_DIR)/$$d --out $(SYNTH_DIR)/sheet_$$d.png; fi; done

## bench-render    renderer speed: s/frame of a robot scene at 320x240 and 640x360 (16 samples, denoised)
bench-render: $(RENDER_STAMP)
	set -e; for size in 240x320 360x640; do rm -rf data/bench-render/$$size; \
	  $(DN) synth robots data/bench-render/$$size --count 1 --frames 8 --size $$size --samples 16 \
	    --robots panda --quiet --render-python $(RENDER_PY) 2>&1 | grep "s/frame"; done
