"""Draw what the face stage found (boxes, landmarks, regions) so a person can check it."""

from __future__ import annotations

import cv2
import numpy as np

from edge.face.context import FaceContext
from edge.face.regions import EXCLUSIONS, SKIN_REGIONS

_PALETTE = [(66, 135, 245), (245, 166, 35), (80, 200, 120), (200, 80, 200), (0, 200, 200), (240, 240, 60),
            (255, 120, 120), (120, 120, 255), (150, 255, 150), (60, 160, 255), (255, 80, 160), (180, 180, 40),
            (40, 180, 180)]


def draw_faces(image: np.ndarray, contexts: list[FaceContext]) -> np.ndarray:
    """Overlay on a copy of the analysis-scale image: detection box, keypoints, mesh, region outlines."""
    out = image.copy()
    thick = max(1, round(max(out.shape[:2]) / 800))
    for ctx in contexts:
        x0, y0, x1, y1 = (int(round(v)) for v in ctx.detection.box)
        cv2.rectangle(out, (x0, y0), (x1, y1), (0, 255, 0), thick)
        for x, y in ctx.detection.keypoints:
            cv2.circle(out, (int(x), int(y)), 2 * thick + 1, (0, 0, 255), -1)
        for x, y in ctx.landmarks[:, :2]:
            cv2.circle(out, (int(x), int(y)), max(1, thick // 2), (255, 255, 255), -1)
        for i, name in enumerate(SKIN_REGIONS + EXCLUSIONS):
            poly = ctx.crop_to_analysis(ctx.regions.polygon(name))
            color = _PALETTE[i % len(_PALETTE)] if name in SKIN_REGIONS else (40, 40, 40)
            cv2.polylines(out, [np.round(poly).astype(np.int32)], True, color, thick)
        cv2.putText(out, f"{ctx.degree} deg", (x0, max(y0 - 6, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * thick,
                    (0, 255, 0), thick)
    return out


def draw_crop_regions(ctx: FaceContext) -> np.ndarray:
    """The aligned crop with each skin region tinted: for checking region placement."""
    out = ctx.crop.copy()
    for i, name in enumerate(SKIN_REGIONS):
        m = ctx.regions.mask(name) > 0
        out[m] = (0.6 * out[m] + 0.4 * np.array(_PALETTE[i % len(_PALETTE)])).astype(np.uint8)
    return out
