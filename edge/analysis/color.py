"""`skin.color` 1-6: the Individual Typology Angle of the face's skin, in the six standard classes.

ITA = atan((L* - 50) / b*) from the median L* and median b* (CIELAB, D65) of cheek and forehead skin
pixels, excluding hair, brows, moles and deep shadow (`maps.skin_pixels`) and specular highlights
(`maps.specular_mask`): what is left is the skin's own colour. Classes: `color_science.ita_class`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from edge.analysis import maps
from edge.analysis.base import register
from edge.analysis.color_science import ITA_CLASS_NAMES, bgr_to_lab, ita_class, ita_deg

if TYPE_CHECKING:
    from edge.face.context import FaceContext
    from edge.runtime.manifest import ModelStore

ITA_ZONES = ("cheek_left", "cheek_right", "forehead")  # the standard ITA measurement sites
# Fewer clean pixels than this in the ITA zones (hair over the forehead and a turned head): widen the
# selection to all clean skin, then to the whole skin region.
MIN_PIXELS = 200
# ITA is a colour *measurement*: it holds only for a fair exposure and a colour picture. Outside these
# bounds `extended.color.reliable` is false (the grade is still given, as the seed's API always does).
RELIABLE_L_RANGE = (35.0, 90.0)  # skin L* from the darkest to the lightest skin under fair light
RELIABLE_MIN_CHROMA = 4.0  # skin's median sqrt(a*^2 + b*^2); greyscale pictures have ~0


def skin_tone_pixels(ctx: FaceContext, store: ModelStore) -> np.ndarray:
    """Bool mask of the pixels ITA is measured on (shared: other fields may want the same selection)."""
    clean = maps.skin_pixels(ctx, store) & ~maps.specular_mask(ctx, store)
    sel = clean & maps.zones(ctx, ITA_ZONES)
    if sel.sum() < MIN_PIXELS:
        sel = clean
    if sel.sum() < MIN_PIXELS:
        sel = maps.zone(ctx, "skin")
    return sel


def is_reliable(lightness: float, a_star: float, b_star: float) -> bool:
    """Whether the skin's median colour was measured under conditions ITA is defined for."""
    chroma = float(np.hypot(a_star, b_star))
    return RELIABLE_L_RANGE[0] <= lightness <= RELIABLE_L_RANGE[1] and chroma >= RELIABLE_MIN_CHROMA


@register("color")
class ColorAnalyzer:
    name: ClassVar[str] = "color"
    models: ClassVar[tuple[str, ...]] = ("skin_pigment", "skin_texture")

    def __init__(self, store: ModelStore) -> None:
        self.store = store

    def measure(self, ctx: FaceContext) -> dict[str, float]:
        sel = skin_tone_pixels(ctx, self.store)
        lab = bgr_to_lab(ctx.crop[sel]) if sel.any() else bgr_to_lab(ctx.crop.reshape(-1, 3))
        lightness, b_star = float(np.median(lab[:, 0])), float(np.median(lab[:, 2]))
        return {"ita_deg": float(ita_deg(lightness, b_star)), "L": lightness, "a": float(np.median(lab[:, 1])),
                "b": b_star, "pixels": int(sel.sum())}

    def analyze(self, ctx: FaceContext, extended: bool = False) -> dict[str, Any]:
        m = self.measure(ctx)
        grade = ita_class(m["ita_deg"])
        part: dict[str, Any] = {"skin": {"color": grade}}
        if extended:
            part["extended"] = {"color": {
                "ita_deg": round(m["ita_deg"], 1), "class_name": ITA_CLASS_NAMES[grade - 1],
                "lab_median": [round(m["L"], 1), round(m["a"], 1), round(m["b"], 1)], "pixels": m["pixels"],
                "reliable": is_reliable(m["L"], m["a"], m["b"]),
            }}
        return part
