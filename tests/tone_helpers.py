"""Helpers for the tone & imaging field tests (color, smooth, skinface, skinquality)."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import cv2
import numpy as np

from edge.face.context import FaceContext


def face_context(engine, image_bgr: np.ndarray) -> FaceContext:
    contexts = engine.face_contexts(image_bgr, max_faces=1)
    assert contexts, "no face found"
    return contexts[0]


def with_crop(ctx: FaceContext, crop: np.ndarray | None = None) -> FaceContext:
    """The same face with another crop (same regions) and an empty map cache."""
    return dataclasses.replace(ctx, crop=ctx.crop.copy() if crop is None else crop, _cache={})


def run_field(engine, name: str, ctx: FaceContext, extended: bool = False) -> dict[str, Any]:
    return engine.analyzer(name).analyze(with_crop(ctx, ctx.crop), extended=extended)


def analyze_photo(engine, image_bgr: np.ndarray, fields: list[str], extended: bool = False) -> dict[str, Any]:
    faces = engine.analyze(image_bgr, fields, max_faces=1, extended=extended)
    return faces[0]


def exposure(image_bgr: np.ndarray, gain: float) -> np.ndarray:
    return np.clip(image_bgr.astype(np.float32) * gain + 0.5, 0, 255).astype(np.uint8)


def jpeg(image_bgr: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def decode_b64_jpeg(text: str, flags: int = cv2.IMREAD_UNCHANGED) -> np.ndarray:
    raw = base64.b64decode(text, validate=True)
    assert raw[:3] == b"\xff\xd8\xff", "not a JPEG"
    img = cv2.imdecode(np.frombuffer(raw, np.uint8), flags)
    assert img is not None
    return img


def gaussian_blob(shape: tuple[int, int], center: tuple[float, float], sigma: float) -> np.ndarray:
    """Peak-1 Gaussian bump (float64) at center (x, y)."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    return np.exp(-((xx - center[0]) ** 2 + (yy - center[1]) ** 2) / (2 * sigma**2))
