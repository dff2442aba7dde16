"""BlenderProc scene scripts, run in the render environment (``.venv-render``, made by ``make render-env``).

``robots``, ``moving`` and ``objects`` are recipes (one scene script each) launched by ``distinctnet synth``
as ``.venv-render/bin/python -m synth.render.<name>``; the shared pieces are ``bproc_boot`` (BlenderProc
in-process with the bpy wheel), ``scene`` (rooms, lights, cameras, segmentation), ``runner`` (shards,
resume, errors, timing) and ``options`` (the command line, shared with the main-venv CLI).
Modules here other than ``options``, ``trajectory`` and ``robot_models`` import Blender: only import them
inside the render environment.
"""
