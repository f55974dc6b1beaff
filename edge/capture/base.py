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
    pass

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
