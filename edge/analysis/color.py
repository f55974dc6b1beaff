"""`skin.color` 1-6: the Individual Typology Angle of the face's skin, in the six standard classes.

ITA = atan((L* - 50) / b*) from the median L* and median b* (CIELAB, D65) of cheek and forehead skin
pixels, excluding hair, brows, moles and deep shadow (`maps.skin_pixels`) and specular highlights
(`maps.specular_mask`): what is left is the skin's own colour. Classes: `color_science.ita_class`.

`extended.color.brown_patch_share` (uneven tone): the share of the cheek and forehead skin lying in
brown patches, i.e. connected areas of at least MIN_PATCH_MM2 whose melanin (`skin_pigment`, smoothed
over PATCH_SMOOTH_MM) exceeds that of the skin around them (PATCH_SURROUND_MM) by BROWN_PATCH_OD or
more. Self-referenced, so exposure, white balance and constitutive tone cancel out; an even face reads 0.
Spots darker than the hair/mole margin of `maps.skin_pixels` are not skin there: they are lesions,
left to acnespotmole. Only a patch's core passes after the surround is subtracted, so the share counts
about a quarter of a +0.2 OD, 4 mm patch's area (tests/unit/test_concerns.py): a conservative measure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np

from edge.analysis import maps
from edge.analysis.base import register
from edge.analysis.color_science import ITA_CLASS_NAMES, bgr_to_lab, ita_class, ita_deg, melanin_of_lab

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
# A visible brown step: the melanin OD that adds Delta b* +4 to a typical skin colour (L* 65, a* 10,
# b* 17), the same Delta E the redness rule calls clearly seen (skinquality.RED_DELTA); ~0.12 OD.
BROWN_PATCH_OD = melanin_of_lab(65.0, 10.0, 21.0) - melanin_of_lab(65.0, 10.0, 17.0)
PATCH_SMOOTH_MM = 0.5  # melanin smoothed over ~0.5 mm first: sensor noise and single pores are not patches
PATCH_SURROUND_MM = 6.0  # a patch is browner than the skin within ~6 mm of it (patches up to ~1 cm across)
PATCH_BORDER_MM = 2.0  # patches are looked for this far inside the cheek and forehead zones (hair, jaw shade)
MIN_PATCH_MM2 = 2.0  # smaller brown dots are lesions (acnespotmole's spots), not uneven tone
BLUR_SIGMA_PER_STEP = 4.0  # a blur wider than this (px) runs on a grid 1 / (sigma // this) as fine: the surround
# blur took 12 of the 15 ms of brown_patch_share at full size; on the 323 valid faces the share moved by at most
# 0.0018 (3 % of its full scale, p95 0.0006, r 0.99995) at half the time


def skin_tone_pixels(ctx: FaceContext, store: ModelStore) -> np.ndarray:
    """Bool mask of the pixels ITA is measured on (shared: other fields may want the same selection)."""
    clean = maps.skin_pixels(ctx, store) & ~maps.specular_mask(ctx, store)
    sel = clean & maps.zones(ctx, ITA_ZONES)
    if sel.sum() < MIN_PIXELS:
        sel = clean
    if sel.sum() < MIN_PIXELS:
        sel = maps.zone(ctx, "skin")
    return sel


def brown_patch_share(ctx: FaceContext, store: ModelStore) -> float:
    """Share of the cheek and forehead skin in brown patches (see the module docstring)."""
    clean = maps.skin_pixels(ctx, store) & maps.zones(ctx, ITA_ZONES)
    # Away from the zones' borders, where hair and the face's edge shade the skin.
    margin = max(1, int(round(PATCH_BORDER_MM / ctx.mm_per_px)))
    sel = cv2.erode(clean.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)) > 0
    if sel.sum() < MIN_PIXELS:
        return 0.0
    melanin = maps.pigment_maps(ctx, store).melanin.astype(np.float32)
    weight = clean.astype(np.float32)

    def skin_blur(sigma_mm: float) -> np.ndarray:
        # Over clean skin only (normalised convolution): hair next to the skin does not bleed in. A wide blur
        # is computed on a coarser grid (BLUR_SIGMA_PER_STEP) and interpolated back: it is smooth at that scale.
        sigma_px = sigma_mm / ctx.mm_per_px
        step = max(1, int(sigma_px // BLUR_SIGMA_PER_STEP))
        h, w = melanin.shape
        num, den = melanin * weight, weight
        if step > 1:
            small = (max(1, w // step), max(1, h // step))
            num, den = (cv2.resize(a, small, interpolation=cv2.INTER_AREA) for a in (num, den))
        num = cv2.GaussianBlur(num, (0, 0), sigma_px / step)
        blurred = num / np.maximum(cv2.GaussianBlur(den, (0, 0), sigma_px / step), 1e-3)
        return blurred if step == 1 else cv2.resize(blurred, (w, h), interpolation=cv2.INTER_LINEAR)

    # Against the skin around it, not the face's median: the slow melanin drift that shading leaves on a
    # cheek turning away from the light is not a patch.
    excess = skin_blur(PATCH_SMOOTH_MM) - skin_blur(PATCH_SURROUND_MM)
    brown = ((excess >= BROWN_PATCH_OD) & sel).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(brown, connectivity=8)
    min_px = MIN_PATCH_MM2 / ctx.mm_per_px**2
    big = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_px]
    return float(stats[big, cv2.CC_STAT_AREA].sum()) / float(sel.sum()) if big else 0.0


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
                "brown_patch_share": round(brown_patch_share(ctx, self.store), 4),
            }}
        return part
