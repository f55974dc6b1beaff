"""The live preview interface the kiosk page polls, and a camera-free replay of the demo photo.

The daemon (edge/kiosk) implements `LiveSource` over a real camera; `ReplayLive` loops still images
(by default `data/demo/`, put in place by scripts/setup.sh) so the page and its tests need no camera.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
PREVIEW_JPEG_QUALITY = 80
SECONDS_PER_IMAGE = 8.0  # a replay folder with several photos shows each this long

# Guidance strings the UI knows how to show (a LiveSource may send others; they are shown verbatim).
GUIDANCE_NO_FACE = "no face"
GUIDANCE_READY = "ready"
GUIDANCE_STARTING = "starting"


@runtime_checkable
class LiveSource(Protocol):
    """What the API needs from a camera pipeline. Every method must be cheap and thread-safe: the
    event loop calls `snapshot_jpeg`/`status` on every poll, `capture_frame` once per scan."""

    def snapshot_jpeg(self) -> bytes | None:
        """The latest preview frame as JPEG bytes (lores stream), or None before the first frame."""
        ...

    def status(self) -> dict[str, Any]:
        """JSON-able: {"frame_size": [w, h] of the preview, "face": {left, top, width, height} in preview
        px or None, "guidance": "come closer" | "too dark" | "hold still" | "ready" | ..., "gate": str,
        "fps": float, "last_result_id": str | None}."""
        ...

    def capture_frame(self) -> np.ndarray | None:
        """The latest full-resolution frame (BGR uint8) for analysis, or None if there is none."""
        ...


FaceLocator = Callable[[np.ndarray], dict[str, float] | None]


class ReplayLive:
    """Loops the still images of a folder (or one file) as if they came from a camera.

    `locate` (optional) finds the face box once per image, in full-frame px; it runs in a background
    thread so construction stays instant and the box appears as soon as it is known.
    """

    def __init__(self, path: str | Path, *, preview_size: tuple[int, int] = (640, 480), fps: float = 15.0,
                 locate: FaceLocator | None = None) -> None:
        self.path = Path(path)
        self.preview_size = preview_size
        self.fps = fps
        self._lock = threading.Lock()
        self._frames: list[_ReplayFrame] = []
        self._started = time.monotonic()
        self.last_result_id: str | None = None
        for file in self._image_files():
            img = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if img is None:
                log.warning("replay: cannot read %s", file)
                continue
            self._frames.append(_ReplayFrame.make(img, preview_size))
        if not self._frames:
            log.warning("replay: no images under %s; the preview stays empty", self.path)
        if locate is not None and self._frames:
            threading.Thread(target=self._locate_all, args=(locate,), name="replay-locate", daemon=True).start()

    def _image_files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        if self.path.is_dir():
            return sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        return []

    def _locate_all(self, locate: FaceLocator) -> None:
        for frame in self._frames:
            try:
                box = locate(frame.full)
            except Exception:  # a locator failure only costs the face box, never the preview
                log.exception("replay: face location failed")
                box = None
            with self._lock:
                frame.face = None if box is None else {k: round(v * frame.scale, 1) for k, v in box.items()
                                                       if k in ("left", "top", "width", "height")}
                frame.located = True

    def _current(self) -> _ReplayFrame | None:
        if not self._frames:
            return None
        index = int((time.monotonic() - self._started) / SECONDS_PER_IMAGE) % len(self._frames)
        return self._frames[index]

    def snapshot_jpeg(self) -> bytes | None:
        frame = self._current()
        return None if frame is None else frame.preview_jpeg

    def status(self) -> dict[str, Any]:
        frame = self._current()
        if frame is None:
            return {"frame_size": list(self.preview_size), "face": None, "guidance": GUIDANCE_NO_FACE,
                    "gate": "no_frame", "fps": 0.0, "last_result_id": self.last_result_id}
        with self._lock:
            face, located = frame.face, frame.located
        if not located:
            guidance, gate = GUIDANCE_STARTING, "starting"
        else:
            guidance, gate = (GUIDANCE_READY, "pass") if face else (GUIDANCE_NO_FACE, "no_face")
        return {"frame_size": [frame.preview_w, frame.preview_h], "face": face, "guidance": guidance,
                "gate": gate, "fps": self.fps, "last_result_id": self.last_result_id}

    def capture_frame(self) -> np.ndarray | None:
        frame = self._current()
        return None if frame is None else frame.full.copy()


class _ReplayFrame:
    def __init__(self, full: np.ndarray, preview_jpeg: bytes, scale: float, preview_w: int, preview_h: int) -> None:
        self.full = full
        self.preview_jpeg = preview_jpeg
        self.scale = scale  # full-frame px * scale = preview px
        self.preview_w, self.preview_h = preview_w, preview_h
        self.face: dict[str, float] | None = None
        self.located = False

    @classmethod
    def make(cls, img: np.ndarray, preview_size: tuple[int, int]) -> _ReplayFrame:
        h, w = img.shape[:2]
        scale = min(1.0, preview_size[0] / w, preview_size[1] / h)
        pw, ph = max(1, round(w * scale)), max(1, round(h * scale))
        small = cv2.resize(img, (pw, ph), interpolation=cv2.INTER_AREA) if scale < 1.0 else img
        ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, PREVIEW_JPEG_QUALITY])
        if not ok:
            raise ValueError("cannot encode preview JPEG")
        return cls(img, buf.tobytes(), scale, pw, ph)
