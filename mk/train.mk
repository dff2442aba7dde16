# Training: motion -> semantic -> recurrent, each stage starting from the previous stage's export.
# make train [TRAIN_PRESET=cpu-small|paper|gpu] [SYNTH_DIR=data/synth] [TRAIN_RUNS=runs/cpu-small]
#            [TRAIN_ARGS='--trainer.max_epochs=2']
# A finished stage (its .safetensors exists) is not redone; a stopped stage resumes from its last.ckpt
TRAIN_PRESET ?= cpu-small
SYNTH_DIR    ?= data/synth
TRAIN_RUNS   ?= runs/$(TRAIN_PRESET)
TRAIN_ARGS   ?=
TRAIN_CONFIGS := training/configs

.PHONY: train train-motion train-semantic train-recurrent train-tensorboard

## train           motion -> semantic -> recurrent on SYNTH_DIR (TRAIN_PRESET=cpu-small|paper|gpu)
train: train-recurrent

## train-motion    stage 1: moving-foreground pretraining on SYNTH_DIR/moving + SYNTH_DIR/robots
train-motion: $(TRAIN_RUNS)/motion.safetensors
$(TRAIN_RUNS)/motion.safetensors:
	$(DN) train --config $(TRAIN_CONFIGS)/$(TRAIN_PRESET)-motion.yaml \
		--data.roots=[$(SYNTH_DIR)/moving,$(SYNTH_DIR)/robots] \
		--trainer.default_root_dir=$(TRAIN_RUNS)/motion --export=$@ --ckpt_path=last $(TRAIN_ARGS)

## train-semantic  stage 2: semantic fine-tuning on SYNTH_DIR/pairs + SYNTH_DIR/robots from the motion export
train-semantic: $(TRAIN_RUNS)/semantic.safetensors
$(TRAIN_RUNS)/semantic.safetensors: $(TRAIN_RUNS)/motion.safetensors
	$(DN) train --config $(TRAIN_CONFIGS)/$(TRAIN_PRESET)-semantic.yaml \
		--data.roots=[$(SYNTH_DIR)/pairs,$(SYNTH_DIR)/robots] --model.init_from=$< \
		--trainer.default_root_dir=$(TRAIN_RUNS)/semantic --export=$@ --ckpt_path=last $(TRAIN_ARGS)

## train-recurrent stage 3: ConvLSTM model on SYNTH_DIR/robots + SYNTH_DIR/moving sequences from the semantic export
train-recurrent: $(TRAIN_RUNS)/recurrent.safetensors
$(TRAIN_RUNS)/recurrent.safetensors: $(TRAIN_RUNS)/semantic.safetensors
	$(DN) train --config $(TRAIN_CONFIGS)/$(TRAIN_PRESET)-recurrent.yaml \
		--data.roots=[$(SYNTH_DIR)/robots,$(SYNTH_DIR)/moving] --model.init_from=$< \
		--trainer.default_root_dir=$(TRAIN_RUNS)/recurrent --export=$@ --ckpt_path=last $(TRAIN_ARGS)

## train-tensorboard  TensorBoard on the training runs (TRAIN_RUNS)
train-tensorboard:
	$(BIN)/tensorboard --logdir $(TRAIN_RUNS)
