"""The frame-source interface: `open()`, `read(timeout) -> Frame`, `close()`.

A Frame carries two views of one instant: `main` (up to 1920x1080, for analysis) and `lores`
(~640x480, for tracking), both BGR uint8. Sources differ in how they get them (the Pi camera's ISP
gives both streams; OpenCV and replay resize main to lores), never in how callers use them.

Every `read` honours its timeout: it returns a frame, or raises FrameTimeout (stalled) or SourceError
(broken); the capture thread then closes and reopens the source with backoff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import cv2
import numpy as np

if TYPE_CHECKING:
    from edge.config import CaptureConfig

log = logging.getLogger(__name__)


class SourceError(Exception):
    """The source cannot be opened or failed while reading (camera gone, stream broken)."""


class FrameTimeout(SourceError):
    """No frame arrived within the timeout: the source is stalled."""


class SourceExhausted(Exception):
    """A finite (non-looping) source has no more frames; not an error, nothing to reopen."""


@dataclass(frozen=True)
class Frame:
    main: np.ndarray  # BGR uint8, the analysis stream
    lores: np.ndarray  # BGR uint8, the tracking stream (same field of view as main)
    ts: float  # time.monotonic() when the frame was taken
    seq: int = 0  # the source's own frame counter (replay: index in the file)

    @property
    def lores_to_main(self) -> tuple[float, float]:
        """Factors (x, y) taking lores pixels to main pixels."""
        return (self.main.shape[1] / self.lores.shape[1], self.main.shape[0] / self.lores.shape[0])


@runtime_checkable
class FrameSource(Protocol):
    name: str

    def open(self) -> None: ...

    def read(self, timeout: float) -> Frame: ...

    def close(self) -> None: ...


def fit_size(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """The largest size inside max_width x max_height keeping the aspect ratio (never upscales)."""
    scale = min(max_width / width, max_height / height, 1.0)
    return max(int(round(width * scale)), 1), max(int(round(height * scale)), 1)


def split_streams(image: np.ndarray, main_size: tuple[int, int], lores_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Main (fitted into main_size) and lores (fitted into lores_size) views of one BGR image, for
    sources without a hardware second stream. INTER_AREA: fast and alias-free when shrinking."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    h, w = image.shape[:2]
    mw, mh = fit_size(w, h, *main_size)
    main = image if (mw, mh) == (w, h) else cv2.resize(image, (mw, mh), interpolation=cv2.INTER_AREA)
    lw, lh = fit_size(mw, mh, *lores_size)
    lores = main if (lw, lh) == (mw, mh) else cv2.resize(main, (lw, lh), interpolation=cv2.INTER_AREA)
    return main, lores


def open_source(cfg: CaptureConfig) -> FrameSource:
    """The configured source, not yet opened. 'auto': Pi camera if picamera2 finds one, else an
    OpenCV device that delivers a frame, else the replay source (so the kiosk runs anywhere)."""
    main_size = (cfg.main_width, cfg.main_height)
    lores_size = (cfg.lores_width, cfg.lores_height)
    if cfg.source == "picamera":
        from edge.capture.picamera import PicameraSource

        return PicameraSource(main_size, lores_size)
    if cfg.source == "opencv":
        from edge.capture.opencv import OpenCVSource

        return OpenCVSource(cfg.device, main_size, lores_size)
    if cfg.source == "replay":
        from edge.capture.replay import ReplaySource

        return ReplaySource(cfg.replay_path, cfg.replay_fps, main_size, lores_size)
    return _auto_source(cfg, main_size, lores_size)


def _auto_source(cfg: CaptureConfig, main_size: tuple[int, int], lores_size: tuple[int, int]) -> FrameSource:
    from edge.capture.opencv import OpenCVSource
    from edge.capture.picamera import PicameraSource, picamera_available
    from edge.capture.replay import ReplaySource

    if picamera_available():
        log.info("capture: using the Pi camera")
        return PicameraSource(main_size, lores_size)
    probe = OpenCVSource(cfg.device, main_size, lores_size)
    try:
        probe.open()
        probe.read(timeout=cfg.frame_timeout_s)
        log.info("capture: using OpenCV device %s", cfg.device)
        return probe  # already open; open() again is a no-op
    except SourceError as exc:
        probe.close()
        log.info("capture: no camera (%s); replaying %s", exc, cfg.replay_path)
    return ReplaySource(cfg.replay_path, cfg.replay_fps, main_size, lores_size)
