"""The trained lesion detector (`lesion_centernet`): its input, its outputs and how they are decoded.

A CenterNet-style net (scripts/train_lesions.py) sees the face-aligned crop resized to INPUT px and
answers, at stride STRIDE, a probability heatmap per lesion class and the log box size (input px) at
each cell. Decoding: per cell the most likely class, local maxima of that map (3x3) above a threshold,
the centre refined to sub-cell precision from the neighbours. Shared by the analyzer and the training
script so both decode the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from edge.face.context import FaceContext

MODEL_NAME = "lesion_centernet"
INPUT = 320  # model input side (px): the 512-px crop at ~0.6 mm per px, near the labelled photos' own detail
STRIDE = 4  # output cell = 4 input px (~2.4 mm on a typical face)
OUTPUT = INPUT // STRIDE
HEAT, SIZE = "heat", "size"
OUTPUT_NAMES = (HEAT, SIZE)

WHITEHEAD, PIMPLE, SCAR, SPOT, MOLE = range(5)  # heatmap channels
CLASS_NAMES = ("whitehead", "pimple", "scar", "spot", "mole")
NUM_CLASSES = len(CLASS_NAMES)
MAX_DETECTIONS = 100  # per face; the labelled faces have at most ~60 lesions


@dataclass(frozen=True)
class Detection:
    channel: int
    score: float  # the heatmap's peak probability
    x0: float  # box in model-input px
    y0: float
    x1: float
    y1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


def model_input(ctx: FaceContext) -> np.ndarray:
    """(INPUT, INPUT, 3) RGB uint8: the face crop as the model was trained on it."""
    small = cv2.resize(ctx.crop, (INPUT, INPUT), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2RGB)


MAX_EXCLUDED_SHARE = 0.5  # a cell at least half covered by an eye, brow, lip or nostril mask is not skin


def cell_share(mask: np.ndarray) -> np.ndarray:
    """(OUT, OUT) uint8: the share (0-255) of each output cell covered by a crop-px 0/255 mask."""
    return cv2.resize(mask, (OUTPUT, OUTPUT), interpolation=cv2.INTER_AREA)


def allowed(exclusion_share: np.ndarray) -> np.ndarray:
    """Cells where a lesion may be reported: not on the eyes, brows, lips or nostrils."""
    return exclusion_share < MAX_EXCLUDED_SHARE * 255


def _refine(m: np.ndarray, y: int, x: int) -> tuple[float, float]:
    """Sub-cell peak position from a parabola through the peak and its two neighbours on each axis."""

    def off(a: float, b: float, c: float) -> float:
        d = a - 2 * b + c
        return float(np.clip(0.5 * (a - c) / d, -0.5, 0.5)) if d < 0 else 0.0

    n = m.shape[0]
    dx = off(m[y, x - 1], m[y, x], m[y, x + 1]) if 0 < x < n - 1 else 0.0
    dy = off(m[y - 1, x], m[y, x], m[y + 1, x]) if 0 < y < n - 1 else 0.0
    return y + dy, x + dx


def decode(heat: np.ndarray, log_size: np.ndarray, min_score: float,
           allowed: np.ndarray | None = None) -> list[Detection]:
    """Detections (input px), strongest first. `heat` (OUT, OUT, C) probabilities, `log_size` (OUT, OUT, 2);
    `allowed` an optional (OUT, OUT) bool mask a peak must lie on."""
    best = heat.max(axis=2)
    channel = heat.argmax(axis=2)
    peaks = (best >= min_score) & (best >= cv2.dilate(best, np.ones((3, 3), np.uint8)))
    if allowed is not None:
        peaks &= allowed
    ys, xs = np.nonzero(peaks)
    order = np.argsort(-best[ys, xs])[:MAX_DETECTIONS]
    out = []
    for y, x in zip(ys[order], xs[order], strict=True):
        fy, fx = _refine(best, int(y), int(x))
        cx, cy = (fx + 0.5) * STRIDE, (fy + 0.5) * STRIDE
        w, h = np.exp(np.clip(log_size[y, x], 0.0, 5.0))
        out.append(Detection(int(channel[y, x]), float(best[y, x]), cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    return out
