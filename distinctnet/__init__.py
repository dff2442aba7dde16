"""distinctnet: self-supervised motion-based segmentation of robots, grasped objects and distractors.

The tree reads in the order the data flows: ``synth/`` renders and composites training data,
``training/`` fits the network in ``distinctnet/modeling``, ``distinctnet.label`` labels recordings,
``eval/`` measures.
"""

__version__ = "0.1.0"
