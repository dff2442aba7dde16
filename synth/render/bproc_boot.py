"""Import BlenderProc 2.8.0 inside an ordinary Python process that has the ``bpy`` 4.2 wheel.

BlenderProc 2.8.0 expects to run in Blender's own Python, started by ``blenderproc run``, which downloads a
Blender build (impossible offline). With the ``bpy`` wheel the same code runs in-process once a few
assumptions of its start-up path are met. Each step below answers one of the problems listed in
``/work/shared/notes/blenderproc-on-this-machine.md``:

1. the package builds its API only when ``INSIDE_OF_THE_INTERNAL_BLENDER_PYTHON_ENVIRONMENT`` is set, and then
   pip-installs packages through Blender's bundled Python: import it once in light mode, replace the
   environment set-up by one that only sets the temp dir, then re-import in inside mode;
2. inside mode removes site-packages from ``sys.path``: a duplicate entry keeps the venv importable;
3. ``bproc.init()`` sets the UI language, which the wheel (no translations) rejects: :func:`init` does the
   rest of it;
4. the URDF loader pip-installs ``urdfpy``: ``urchin`` is its maintained fork with the same API;
5. bpy 4.2 segfaults at interpreter exit: leave through ``os._exit`` with the real exit code;
6. the URDF loader keeps only the first object of a multi-object OBJ: join them all into one mesh;
7. (``package://`` URDF paths are rewritten by :mod:`synth.render.urdf` before loading.)

Use::

    from synth.render.bproc_boot import boot
    bproc = boot(temp_dir)      # then build the scene with the normal bproc API
"""
from __future__ import annotations

import atexit
import importlib
import os
import sys
import tempfile

_BPROC = None
_EXIT_CODE = 0


def _hard_exit() -> None:
    # Runs last among atexit handlers (registered first). Flush, then skip bpy's crashing C exit handler.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_EXIT_CODE)


def _remember_exit_code(exc_type, exc, tb) -> None:
    global _EXIT_CODE
    _EXIT_CODE = 1
    sys.__excepthook__(exc_type, exc, tb)


def set_exit_code(code: int) -> None:
    """The code the process leaves with (``sys.exit(code)`` also works: SystemExit is caught below)."""
    global _EXIT_CODE
    _EXIT_CODE = int(code)


def _install_exit_guard() -> None:
    atexit.register(_hard_exit)
    sys.excepthook = _remember_exit_code
    original_exit = sys.exit

    def exit_with_code(code=0):
        if isinstance(code, int) or code is None:
            set_exit_code(code or 0)
        else:  # sys.exit("message") prints the message and exits with 1
            set_exit_code(1)
        original_exit(code)

    sys.exit = exit_with_code


def _patch_urdf_loader() -> None:
    import urchin

    sys.modules.setdefault("urdfpy", urchin)
    from blenderproc.python.loader import URDFLoader
    from blenderproc.python.utility.SetupUtility import SetupUtility

    original_load_obj = URDFLoader.load_obj

    def load_joined(filepath: str, *args, **kwargs):
        # URDF meshes are z-up, x-forward whatever branch of the loader asked for it.
        kwargs.update(forward_axis="Y", up_axis="Z")
        objs = original_load_obj(filepath, *args, **kwargs)
        if not objs:
            raise RuntimeError(f"{filepath}: no mesh could be loaded")
        if len(objs) > 1:
            objs[0].join_with_other_objects(objs[1:])
        return [objs[0]]

    URDFLoader.load_obj = load_joined
    # load_urdf starts with a pip install of urdfpy from GitHub; urchin is already here.
    SetupUtility.setup_pip = staticmethod(lambda *a, **k: tempfile.gettempdir())


def boot(temp_dir: str | None = None):
    """Import BlenderProc in this process and return the ``blenderproc`` module with its full API."""
    global _BPROC
    if _BPROC is not None:
        return _BPROC
    _install_exit_guard()
    temp_dir = temp_dir or tempfile.mkdtemp(prefix="bproc-")
    os.makedirs(temp_dir, exist_ok=True)

    # 1. light import: no API, no pip
    os.environ["OUTSIDE_OF_THE_INTERNAL_BLENDER_PYTHON_ENVIRONMENT_BUT_IN_RUN_SCRIPT"] = "1"
    import blenderproc
    from blenderproc.python.utility.SetupUtility import SetupUtility

    def setup_without_pip(*args, **kwargs):
        SetupUtility.main_setup_called = True
        SetupUtility.setup_utility_paths(temp_dir)
        return sys.argv

    SetupUtility.setup = staticmethod(setup_without_pip)

    # 2. inside mode removes its parent folder from sys.path: add a duplicate so one copy survives
    parent = os.path.abspath(os.path.join(os.path.dirname(blenderproc.__file__), ".."))
    sys.path.append(parent)
    python_path = os.environ.get("PYTHONPATH")
    os.environ["INSIDE_OF_THE_INTERNAL_BLENDER_PYTHON_ENVIRONMENT"] = "1"
    try:
        bproc = importlib.reload(blenderproc)
    finally:
        del os.environ["OUTSIDE_OF_THE_INTERNAL_BLENDER_PYTHON_ENVIRONMENT_BUT_IN_RUN_SCRIPT"]
        if python_path is not None:  # inside mode deletes it; child processes may need it
            os.environ["PYTHONPATH"] = python_path
    _patch_urdf_loader()
    _BPROC = bproc
    return bproc


def init(bproc, threads: int | None = None) -> None:
    """``bproc.init()`` without the UI-language line the wheel rejects."""
    import bpy
    from blenderproc.python.renderer import RendererUtility
    from blenderproc.python.utility.GlobalStorage import GlobalStorage
    from blenderproc.python.utility.Initializer import _Initializer, clean_up

    if GlobalStorage.is_in_storage("bproc_init_complete") and GlobalStorage.get("bproc_init_complete"):
        return
    clean_up(clean_up_camera=True)
    bpy.context.scene.render.engine = "CYCLES"
    RendererUtility.set_render_devices()
    _Initializer.set_default_parameters()
    if threads:
        bproc.renderer.set_cpu_threads(threads)
    GlobalStorage.add("bproc_init_complete", True)
