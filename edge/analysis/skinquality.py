"""`skinquality`: dry / neutral / oily per zone, and overall sensitivity (tolerant / neutral / sensitive).

skin_dryoil_check, five strings for forehead, nose, the person's left cheek, right cheek, chin:
  "2" oily    when specular highlights (`maps.specular_mask`) cover >= OILY_SHINE of the zone's skin;
  "0" dry     when the zone is matte (shine < DRY_SHINE) and its texture contrast (see smooth.py) is at
              least DRY_TEXTURE: dull, rough skin;
  "1" neutral otherwise, and when too little of the zone shows (hair, hands).
skin_sensitive_check, one string, from hemoglobin (redness, `maps.pigment_maps`) of the cheeks and nose
against the face's own forehead and chin, which flush less: the share of cheek/nose skin at least
RED_DELTA redder (spread) and the median excess (level). Self-referenced, so exposure, shading, white
balance and constitutive skin tone cancel out; a uniformly flushed face reads neutral.
  "2" sensitive when spread >= SENSITIVE_SPREAD;
  "0" tolerant  when spread < TOLERANT_SPREAD and level < TOLERANT_LEVEL;
  "1" neutral   otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from edge.analysis import maps
from edge.analysis.base import register
from edge.analysis.color_science import hemoglobin_of_lab
from edge.analysis.smooth import MIN_ZONE_PIXELS, SMOOTH_FINE, zone_texture

if TYPE_CHECKING:
    from edge.face.context import FaceContext
    from edge.runtime.manifest import ModelStore

DRYOIL_ZONES = ("forehead", "nose", "cheek_left", "cheek_right", "chin")  # the seed's order
OILY_SHINE = 0.05  # >= 5 % of the zone's skin is specular highlight: an oily sheen, not a single glint
DRY_SHINE = 0.005  # < 0.5 % highlight: matte (even dry skin shows a glint or two on a curved zone)
DRY_TEXTURE = SMOOTH_FINE  # texture contrast (%) at smooth grade 3 or rougher: visibly rough / flaky

RED_ZONES = ("cheek_left", "cheek_right", "nose")  # where sensitive skin flushes (and rosacea shows)
REFERENCE_RED_ZONES = ("forehead", "chin")  # the same face's calmer skin
# Visible redness: hemoglobin OD of a typical skin colour (L* 65, b* 17) at a* + 4 over a* 10; a
# Delta a* of ~2.5 is the usual threshold of visible erythema, +4 is clearly seen.
RED_DELTA = hemoglobin_of_lab(65.0, 14.0, 17.0) - hemoglobin_of_lab(65.0, 10.0, 17.0)
SENSITIVE_SPREAD = 0.30  # >= 30 % of cheeks and nose visibly redder than forehead/chin
TOLERANT_SPREAD = 0.10  # < 10 %: redness limited to small spots (a blemish, a vessel)
TOLERANT_LEVEL = RED_DELTA / 2  # and the typical cheek/nose skin within half a visible step of the reference


def zone_shine(ctx: FaceContext, store: ModelStore, zone: str) -> float | None:
    """Share of the zone's skin pixels that are specular highlights; None when too little shows."""
    sel = maps.zone(ctx, zone) & maps.skin_pixels(ctx, store)
    n = int(sel.sum())
    if n < MIN_ZONE_PIXELS or not ctx.regions.visible(zone):
        return None
    return float((sel & maps.specular_mask(ctx, store)).sum()) / n


def dryoil_grade(shine: float | None, texture: float | None) -> str:
    if shine is None:
        return "1"
    if shine >= OILY_SHINE:
        return "2"
    if shine < DRY_SHINE and texture is not None and texture >= DRY_TEXTURE:
        return "0"
    return "1"


def redness(ctx: FaceContext, store: ModelStore) -> dict[str, float]:
    """{'level': median cheek/nose hemoglobin minus the reference, 'spread': share >= RED_DELTA above}."""
    hem = maps.pigment_maps(ctx, store).hemoglobin
    clean = maps.skin_pixels(ctx, store) & ~maps.specular_mask(ctx, store)
    calm = clean & maps.zones(ctx, REFERENCE_RED_ZONES)
    reference = float(np.median(hem[calm])) if calm.sum() >= MIN_ZONE_PIXELS else maps.skin_reference(ctx, store).hemoglobin
    central = clean & maps.zones(ctx, RED_ZONES)
    if central.sum() < MIN_ZONE_PIXELS:
        return {"level": 0.0, "spread": 0.0, "reference": reference}
    values = hem[central]
    return {"level": float(np.median(values)) - reference, "spread": float(np.mean(values >= reference + RED_DELTA)),
            "reference": reference}


def sensitive_grade(level: float, spread: float) -> str:
    if spread >= SENSITIVE_SPREAD:
        return "2"
    if spread < TOLERANT_SPREAD and level < TOLERANT_LEVEL:
        return "0"
    return "1"


@register("skinquality")
class SkinQualityAnalyzer:
    name: ClassVar[str] = "skinquality"
    models: ClassVar[tuple[str, ...]] = ("skin_pigment", "skin_texture")

    def __init__(self, store: ModelStore) -> None:
        self.store = store

    def analyze(self, ctx: FaceContext, extended: bool = False) -> dict[str, Any]:
        shine = {z: zone_shine(ctx, self.store, z) for z in DRYOIL_ZONES}
        texture = {z: zone_texture(ctx, self.store, z) for z in DRYOIL_ZONES}
        red = redness(ctx, self.store)
        # A greyscale picture shows neither shine (paler than skin) nor redness: neutral, not a guess.
        grey = maps.skin_reference(ctx, self.store).saturation < maps.MIN_SKIN_SATURATION
        part: dict[str, Any] = {"skinquality": {
            "skin_dryoil_check": ["1" if grey else dryoil_grade(shine[z], texture[z]) for z in DRYOIL_ZONES],
            "skin_sensitive_check": ["1" if grey else sensitive_grade(red["level"], red["spread"])],
        }}
        if extended:
            part["extended"] = {"skinquality": {
                "zones": {z: {"shine": None if shine[z] is None else round(shine[z], 4),
                              "texture_pct": None if texture[z] is None else round(texture[z], 3)} for z in DRYOIL_ZONES},
                "redness": {k: round(v, 4) for k, v in red.items()},
            }}
        return part
