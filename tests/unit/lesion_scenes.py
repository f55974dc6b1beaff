"""Shared helpers for the lesion tests: the eval's photo scene and planting in original pixels."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

import eval_lesions as ev  # noqa: E402


def kind(family: str, type_: int) -> ev.Kind:
    return next(k for k in ev.KINDS if k.family == family and k.type == type_)


def plant(img: np.ndarray, ctx, sites: list[tuple[ev.Kind, float, float, float]], seed: int = 0) -> np.ndarray:
    """Render (kind, crop x, crop y, diameter mm) sites into a copy of the original image."""
    rng = np.random.default_rng(seed)
    out = img.copy()
    for k, x, y, d_mm in sites:
        ox, oy = ctx.crop_to_original(np.array([[x, y]]))[0] / ctx.to_original
        d_px = d_mm / (ctx.mm_per_px * ctx.crop_px_per_image_px)
        ev.render(out, k, float(ox), float(oy), d_px, rng)
    return out


def to_crop(ctx, x: float, y: float) -> tuple[float, float]:
    """Original px -> crop px of `ctx`."""
    p = np.array([x, y]) / ctx.to_original
    c = ctx.crop_matrix[:, :2] @ p + ctx.crop_matrix[:, 2]
    return float(c[0]), float(c[1])
