"""The trained lesion detector (`lesion_centernet`): its input, its outputs and how they are decoded.

A CenterNet-style net (scripts/train_lesions.py) sees the face-aligned crop resized to INPUT px and
answers, at stride STRIDE, a probability heatmap per lesion class and the log box size (input px) at
each cell. Decoding: local maxima (3x3) of each family's map above a threshold, the kind the most likely
class of the family there, the centre refined to sub-cell precision from the neighbours. Shared by the
analyzer and the training script so both decode the same way.
"""

from __future__ import annotations

from collections.abc import Callable
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


# The crop and its mirror image both go through the model and the maps are averaged (the mirror's flipped back):
# measured on valid with the int8 model, F1 +0.017 acne, +0.016 speckle, +0.010 mole, for a second 1.5 ms run.
MIRROR_AVERAGE = True

Maps = tuple[np.ndarray, np.ndarray]  # heat (OUT, OUT, C) probabilities, log size (OUT, OUT, 2)


def predict(run: Callable[[np.ndarray], Maps], image: np.ndarray) -> Maps:
    """The model's maps for one (INPUT, INPUT, 3) input; `run` runs the model on one image. With MIRROR_AVERAGE,
    the mean of the image's maps and its mirror image's maps flipped back. Shared by the analyzer and the
    training script, so operating points are chosen on what the product computes."""
    heat, size = run(image)
    if MIRROR_AVERAGE:
        heat_m, size_m = run(np.ascontiguousarray(image[:, ::-1]))
        heat, size = (heat + heat_m[:, ::-1]) / 2, (size + size_m[:, ::-1]) / 2
    return heat, size


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


# Peaks are found per family map: whiteheads and pimples share one (one acne lesion is one finding, the more
# likely kind names it); marks, spots and moles each have their own, so a mole next to a spot-like peak is not
# swallowed by it. Measured on valid with the 320-px model: argmax over all classes gave acne / speckle / mole
# F1 0.23 / 0.38 / 0.17, one map per family 0.30 / 0.38 / 0.27.
FAMILY_CHANNELS = ((WHITEHEAD, PIMPLE), (SCAR,), (SPOT,), (MOLE,))


def decode(heat: np.ndarray, log_size: np.ndarray, min_score: float,
           allowed: np.ndarray | None = None, kind_weights: np.ndarray | None = None) -> list[Detection]:
    """Detections (input px), strongest first. `heat` (OUT, OUT, C) probabilities, `log_size` (OUT, OUT, 2);
    `allowed` an optional (OUT, OUT) bool mask a peak must lie on. Local maxima (3x3) of each family's map
    at or above `min_score`, at most MAX_DETECTIONS in all. The kind of a peak is the family's class with
    the largest probability x `kind_weights` (C,; default all 1: a rare kind such as pimple can be given
    more weight against the common whitehead); its score is the family map's peak."""
    kernel = np.ones((3, 3), np.uint8)
    found: list[tuple[float, int, int, int, np.ndarray]] = []
    for channels in FAMILY_CHANNELS:
        maps = heat[..., list(channels)]
        best = maps.max(axis=2) if len(channels) > 1 else maps[..., 0]
        peaks = (best >= min_score) & (best >= cv2.dilate(best, kernel))
        if allowed is not None:
            peaks &= allowed
        ys, xs = np.nonzero(peaks)
        weights = np.ones(len(channels)) if kind_weights is None else np.asarray(kind_weights)[list(channels)]
        kind = np.asarray(channels)[(maps[ys, xs] * weights).argmax(axis=1)] if len(ys) else []
        found += [(float(best[y, x]), int(y), int(x), int(c), best) for y, x, c in zip(ys, xs, kind, strict=True)]
    found.sort(key=lambda f: -f[0])
    out = []
    for score, y, x, channel, best in found[:MAX_DETECTIONS]:
        fy, fx = _refine(best, y, x)
        cx, cy = (fx + 0.5) * STRIDE, (fy + 0.5) * STRIDE
        w, h = np.exp(np.clip(log_size[y, x], 0.0, 5.0))
        out.append(Detection(channel, score, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    return out
