"""Training: motion pretraining, semantic fine-tuning and the recurrent stage, with PyTorch Lightning.

`distinctnet train --config training/configs/<preset>-<stage>.yaml [--trainer.max_epochs=2 ...]`
"""
