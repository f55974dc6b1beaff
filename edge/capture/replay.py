"""Replay source: an image folder or a video file, looped, paced at a fixed frame rate.

The default demo source when no camera is present (`scripts/run.sh` works on any machine), and the
test source: a video made from real photos drives the whole daemon deterministically (`seq` is the
frame's index in the file).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np

from edge.capture.base import Frame, FrameTimeout, SourceError, SourceExhausted, split_streams

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
MAX_CACHED_IMAGES = 32  # a small folder is decoded once; a large one is decoded per frame


class ReplaySource:
    def __init__(self, path: str | Path, fps: float, main_size: tuple[int, int] = (1920, 1080),
                 lores_size: tuple[int, int] = (640, 480), *, loop: bool = True) -> None:
        self.path = Path(path)
        self.name = f"replay:{self.path}"
        self.period = 1.0 / fps
        self.main_size, self.lores_size = main_size, lores_size
        self.loop = loop
        self._images: list[Path] = []
        self._cache: dict[Path, tuple[np.ndarray, np.ndarray]] = {}
        self._video: cv2.VideoCapture | None = None
        self._index = 0  # position in the file (frame or image number) of the next frame
        self._next_due = 0.0
        self._lock = threading.Lock()  # close() may come from another thread than read()

    def open(self) -> None:
        with self._lock:
            self._release()
            if self.path.is_dir():
                self._images = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
                if not self._images:
                    raise SourceError(f"replay: no images in {self.path}")
            elif self.path.is_file():
                self._video = cv2.VideoCapture(str(self.path))
                if not self._video.isOpened():
                    self._video = None
                    raise SourceError(f"replay: cannot open video {self.path}")
            else:
                raise SourceError(f"replay: {self.path} does not exist")
            self._index = 0
            self._next_due = time.monotonic()

    def read(self, timeout: float) -> Frame:
        # Pace: frames are due every `period`; a slow reader gets the next frame at once (no backlog).
        wait = self._next_due - time.monotonic()
        if wait > timeout:
            time.sleep(timeout)
            raise FrameTimeout("replay: next frame not due within the timeout")
        if wait > 0:
            time.sleep(wait)
        with self._lock:
            main, lores = self._next_image()
            now = time.monotonic()
            self._next_due = max(self._next_due + self.period, now)
            return Frame(main=main, lores=lores, ts=now, seq=self._index - 1)

    def _next_image(self) -> tuple[np.ndarray, np.ndarray]:
        if self._images:
            if self._index >= len(self._images):
                if not self.loop:
                    raise SourceExhausted(self.name)
                self._index = 0
            path = self._images[self._index]
            self._index += 1
            return self._decode(path)
        if self._video is None:
            raise SourceError("replay: not open")
        ok, image = self._video.read()
        if not ok:
            if not self.loop:
                raise SourceExhausted(self.name)
            self._video.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self._index = 0
            ok, image = self._video.read()
            if not ok:
                raise SourceError(f"replay: cannot read frames from {self.path}")
        self._index += 1
        return split_streams(image, self.main_size, self.lores_size)

    def _decode(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        if path in self._cache:
            return self._cache[path]
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SourceError(f"replay: cannot decode {path}")
        streams = split_streams(image, self.main_size, self.lores_size)
        if len(self._images) <= MAX_CACHED_IMAGES:
            self._cache[path] = streams
        return streams

    def _release(self) -> None:
        if self._video is not None:
            self._video.release()
            self._video = None

    def close(self) -> None:
        with self._lock:
            self._release()
