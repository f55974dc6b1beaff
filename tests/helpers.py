"""Small helpers shared by tests."""

from __future__ import annotations

import cv2
import numpy as np


def encode(img: np.ndarray, ext: str = ".png", **params: int) -> bytes:
    flags: list[int] = []
    if "quality" in params:
        flags = [cv2.IMWRITE_JPEG_QUALITY, params["quality"]]
    ok, buf = cv2.imencode(ext, img, flags)
    assert ok
    return buf.tobytes()
