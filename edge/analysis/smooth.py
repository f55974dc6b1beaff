"""`skin.smooth` 1-4 (1 = smoothest): band-pass texture contrast of the skin.

Texture contrast (%) = mean over clean skin pixels of |sigma^2 LoG| (sigma 3 crop px, ~1 mm on an
adult face; skin_texture's `log_coarse`) divided by the local mean luma. Dividing by the local level
makes it independent of exposure and shading; measuring in the face-aligned crop fixes the scale to
the face (the crop always spans the face in the same number of pixels). Per zone (forehead, cheeks,
chin), then the median over zones, so one zone with stray hair or a lesion cannot decide alone.

Grade boundaries: a sinusoidal texture of Michelson contrast C at the filter's peak frequency reads
about 0.47 C here. Texture of ~1 mm period seen from ~50 cm is ~9 cycles/degree, where contrast
sensitivity puts the threshold of notice near 1.5 % on a real (busy) face; the first boundary sits
there (0.75 ~ 1.6 % contrast) and each further grade doubles it. Faces that are small in the photo (the crop upsampled > ~3x) cannot
show their finest texture and read smoother than they are (`extended.smooth.crop_upscale` tells).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from edge.analysis import maps
from edge.analysis.base import register

if TYPE_CHECKING:
    from edge.face.context import FaceContext
    from edge.runtime.manifest import ModelStore

TEXTURE_ZONES = ("forehead", "cheek_left", "cheek_right", "chin")  # broad, flat skin; nose and lips have edges
MIN_ZONE_PIXELS = 150  # fewer clean pixels: the zone is covered (hair, hands) and does not vote
# Upper bounds (texture contrast %, exclusive) of grades 1, 2, 3; above the last is 4.
SMOOTH_VERY = 0.75  # < ~1.6 % grating contrast: below the threshold of notice -> 1
SMOOTH_FINE = 1.5  # ~1.6-3.2 %: faint texture -> 2
SMOOTH_VISIBLE = 3.0  # ~3.2-6.4 %: visible texture (pores, bumps, fine lines) -> 3; beyond: rough -> 4
SMOOTH_BOUNDARIES = (SMOOTH_VERY, SMOOTH_FINE, SMOOTH_VISIBLE)


def texture_contrast_map(ctx: FaceContext, store: ModelStore) -> np.ndarray:
    """Per-pixel |band-pass| / local mean luma, in % (shared with skinquality)."""

    def compute(c: FaceContext) -> np.ndarray:
        t = maps.texture_maps(c, store)
        return 100.0 * np.abs(t.log_coarse) / np.maximum(t.luma_mean, 1.0)

    return ctx.cached("texture_contrast", compute)


def zone_texture(ctx: FaceContext, store: ModelStore, zone: str) -> float | None:
    """Mean texture contrast (%) over the zone's clean, shine-free skin; None when too little shows."""
    sel = maps.zone(ctx, zone) & maps.skin_pixels(ctx, store) & ~maps.specular_mask(ctx, store)
    if sel.sum() < MIN_ZONE_PIXELS:
        return None
    return float(texture_contrast_map(ctx, store)[sel].mean())


def smooth_grade(contrast_pct: float) -> int:
    for grade, bound in enumerate(SMOOTH_BOUNDARIES, start=1):
        if contrast_pct < bound:
            return grade
    return 4


@register("smooth")
class SmoothAnalyzer:
    name: ClassVar[str] = "smooth"
    models: ClassVar[tuple[str, ...]] = ("skin_texture", "skin_pigment")

    def __init__(self, store: ModelStore) -> None:
        self.store = store

    def measure(self, ctx: FaceContext) -> dict[str, Any]:
        per_zone = {z: zone_texture(ctx, self.store, z) for z in TEXTURE_ZONES}
        votes = [v for v in per_zone.values() if v is not None]
        if not votes:  # nothing clean to measure: fall back to all skin pixels
            sel = maps.zone(ctx, "skin")
            votes = [float(texture_contrast_map(ctx, self.store)[sel].mean())] if sel.any() else [0.0]
        return {"texture_pct": float(np.median(votes)), "zones": per_zone}

    def analyze(self, ctx: FaceContext, extended: bool = False) -> dict[str, Any]:
        m = self.measure(ctx)
        grade = smooth_grade(m["texture_pct"])
        part: dict[str, Any] = {"skin": {"smooth": grade}}
        if extended:
            # 100 = no texture, 0 = twice the rough boundary or more (log scale, as the grades).
            score = 100.0 * (1.0 - np.log2(1.0 + m["texture_pct"] / SMOOTH_VERY) / np.log2(1.0 + 2 * SMOOTH_VISIBLE / SMOOTH_VERY))
            # crop px per original-image px: > ~3 means the photo cannot resolve the finest texture.
            scale = float(np.hypot(*ctx.crop_matrix[0, :2]) / ctx.to_original) if ctx.to_original else 0.0
            part["extended"] = {"smooth": {
                "texture_pct": round(m["texture_pct"], 3), "score": int(round(float(np.clip(score, 0, 100)))),
                "zones": {k: (None if v is None else round(v, 3)) for k, v in m["zones"].items()},
                "crop_upscale": round(scale, 2),
            }}
        return part
