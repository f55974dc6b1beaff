"""`skinface.skin_health_check_images`: the face crop and three readable analysis pictures, base64 JPEG.

  src_pic    the face-aligned crop as analysed;
  gray_pic   its luma (the texture model's input);
  brown_pic  melanin concentration (skin_pigment `melanin`), light cream = this face's typical skin or
             less, darker brown = more melanin (freckles, spots, melasma);
  red_pic    hemoglobin concentration (skin_pigment `hemoglobin`), pale = typical or less, deeper red =
             more blood (flushing, acne, vessels).
Brown and red are relative to the face's own typical skin (`picture_references`) on fixed OD spans, so
a picture shows where pigment gathers, comparable between visits and people; outside the face oval
the pictures fade out.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np

from edge.analysis import maps
from edge.analysis.base import register

if TYPE_CHECKING:
    from edge.face.context import FaceContext
    from edge.runtime.manifest import ModelStore

JPEG_QUALITY = 85  # readable pictures at ~30-60 kB each for a 512 px crop
MAP_SMOOTH_SIGMA = 1.0  # px; hides int8 steps and sensor noise, keeps a 1 mm freckle
# Position of the face's typical skin on the 0..1 colour ramp, and the OD change that spans the whole
# ramp: a mole or dark spot (+0.3..0.5 melanin OD) reaches dark brown; +0.35 hemoglobin OD (a papule, a
# flushed cheek: Delta a* ~ +11) reaches deep red.
BROWN_BASE, BROWN_SPAN = 0.2, 0.5
RED_BASE, RED_SPAN = 0.2, 0.45
# Ramp ends, BGR: light cream -> dark brown; pale pink -> deep red.
BROWN_LOW, BROWN_HIGH = (222, 236, 248), (20, 55, 100)
RED_LOW, RED_HIGH = (238, 238, 250), (40, 25, 180)
OUTSIDE_FADE = 0.75  # outside the face oval, blend this much toward the background
BACKGROUND_LEVEL = 245  # near-white


def _ramp(low: tuple[int, int, int], high: tuple[int, int, int]) -> np.ndarray:
    t = np.linspace(0.0, 1.0, 256)[:, None]
    return np.round((1 - t) * np.asarray(low) + t * np.asarray(high)).astype(np.uint8).reshape(256, 1, 3)


_BROWN_LUT, _RED_LUT = _ramp(BROWN_LOW, BROWN_HIGH), _ramp(RED_LOW, RED_HIGH)


def render_map(value: np.ndarray, reference: float, base: float, span: float, lut: np.ndarray,
               face: np.ndarray) -> np.ndarray:
    """Concentration map -> BGR picture: (value - reference) / span + base on the colour ramp."""
    v = cv2.GaussianBlur(value, (0, 0), MAP_SMOOTH_SIGMA) if MAP_SMOOTH_SIGMA else value
    alpha = 255.0 / span
    # saturate(v * alpha + gamma) in one pass: the ramp index 0..255.
    idx = cv2.addWeighted(v, alpha, v, 0.0, base * 255.0 - reference * alpha, dtype=cv2.CV_8U)
    img = cv2.applyColorMap(idx, lut)
    faded = cv2.addWeighted(img, 1.0 - OUTSIDE_FADE, img, 0.0, OUTSIDE_FADE * BACKGROUND_LEVEL)
    cv2.copyTo(img, face, faded)
    return faded


def jpeg_base64(img: np.ndarray, quality: int = JPEG_QUALITY) -> str:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return base64.b64encode(buf.tobytes()).decode("ascii")


def picture_references(ctx: FaceContext, store: ModelStore) -> tuple[float, float]:
    """(melanin, hemoglobin) medians over all clean skin: where the ramps start. The whole face's
    skin, not just the reference zones, so a planted or real spot barely moves it."""

    def compute(c: FaceContext) -> tuple[float, float]:
        p, sel = maps.pigment_maps(c, store), maps.skin_pixels(c, store)
        if sel.sum() < 50:
            r = maps.skin_reference(c, store)
            return r.melanin, r.hemoglobin
        return float(np.median(p.melanin[sel])), float(np.median(p.hemoglobin[sel]))

    return ctx.cached("picture_references", compute)


def health_images(ctx: FaceContext, store: ModelStore) -> dict[str, np.ndarray]:
    """The four pictures as BGR/grey uint8 arrays (before JPEG), for the UI or tests."""
    p = maps.pigment_maps(ctx, store)
    mel_ref, hem_ref = picture_references(ctx, store)
    face = ctx.regions.mask("face")
    return {
        "src_pic": ctx.crop,
        "gray_pic": maps.luma(ctx),
        "brown_pic": render_map(p.melanin, mel_ref, BROWN_BASE, BROWN_SPAN, _BROWN_LUT, face),
        "red_pic": render_map(p.hemoglobin, hem_ref, RED_BASE, RED_SPAN, _RED_LUT, face),
    }


@register("skinface")
class SkinFaceAnalyzer:
    name: ClassVar[str] = "skinface"
    models: ClassVar[tuple[str, ...]] = ("skin_pigment",)

    def __init__(self, store: ModelStore) -> None:
        self.store = store

    def analyze(self, ctx: FaceContext, extended: bool = False) -> dict[str, Any]:
        images = {k: jpeg_base64(v) for k, v in health_images(ctx, self.store).items()}
        part: dict[str, Any] = {"skinface": {"skin_health_check_images": images}}
        if extended:
            mel_ref, hem_ref = picture_references(ctx, self.store)
            part["extended"] = {"skinface": {"reference_melanin_od": round(mel_ref, 3),
                                             "reference_hemoglobin_od": round(hem_ref, 3)}}
        return part
