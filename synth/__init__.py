"""Synthetic training data: BlenderProc renders (``synth.render``, run in ``.venv-render``), composited
fine-tuning pairs (``synth.composite``) and contact sheets (``synth.sheet``). CLI: ``distinctnet synth``."""
