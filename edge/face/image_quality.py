"""Image-quality measures of a face: sharpness and exposure (the kiosk's capture gate and the
vendor API's `face_quality_control` use the same numbers)."""

from __future__ import annotations

import cv2
import numpy as np

# The face is rescaled to this width before the Laplacian: its variance then measures blur, not
# distance (a closer face would otherwise look sharper).
SHARPNESS_WIDTH_PX = 128
# Exposure is measured on the central part of the face box (skin, not hair or background).
EXPOSURE_INSET = 0.2
DARK_CLIP, BRIGHT_CLIP = 8, 247  # luminance at or beyond which a pixel counts as clipped


def face_region(image: np.ndarray, box: np.ndarray, inset: float = 0.0) -> np.ndarray:
    """The part of `image` inside `box` (x0, y0, x1, y1), shrunk by `inset` of its size on each side."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    dx, dy = (x1 - x0) * inset, (y1 - y0) * inset
    xa, ya = int(max(x0 + dx, 0)), int(max(y0 + dy, 0))
    xb, yb = int(min(x1 - dx, w)), int(min(y1 - dy, h))
    return image[ya:max(yb, ya + 1), xa:max(xb, xa + 1)]


def sharpness(gray_face: np.ndarray) -> float:
    """Variance of the Laplacian of the face, rescaled to SHARPNESS_WIDTH_PX wide."""
    h, w = gray_face.shape[:2]
    if w < 2 or h < 2:
        return 0.0
    scale = SHARPNESS_WIDTH_PX / w
    face = cv2.resize(gray_face, (SHARPNESS_WIDTH_PX, max(int(round(h * scale)), 2)), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(face, cv2.CV_64F).var())


def exposure(gray_face: np.ndarray) -> tuple[float, float, float]:
    """Mean luminance, share of dark-clipped and share of bright-clipped pixels."""
    if gray_face.size == 0:
        return 0.0, 1.0, 0.0
    return (float(gray_face.mean()), float(np.count_nonzero(gray_face <= DARK_CLIP)) / gray_face.size,
            float(np.count_nonzero(gray_face >= BRIGHT_CLIP)) / gray_face.size)
