"""Advanced tier (`.../skin-analysis-advanced`): Basic plus tone, age, severities, lesion rectangles,
and with `return_maps=red_area` the redness map and sensitivity."""

from __future__ import annotations

from typing import Any

from edge.formats import ailab_basic
from edge.formats.ailab_maps import MapRenderer
from edge.formats.ailab_measures import Lesions, VendorView, pair


def tone(v: VendorView) -> dict[str, Any]:
    ha, hue = v.skin_hue()
    return {"skin_color": v.skin_color(), "skintone_ita": v.skintone_ita(), "skin_hue_ha": {"HA": ha, "skintone": hue},
            "skin_age": {"value": v.skin_age()}}


def render(v: VendorView, *, rect_confidence: bool, maps: tuple[str, ...]) -> dict[str, Any]:
    out = ailab_basic.render(v)
    r = out["result"]
    r.update(tone(v))
    if r["eye_pouch"]["value"] == 1:
        r["eye_pouch_severity"] = pair(v.eye_pouch_severity(), 1.0)
    if r["nasolabial_fold"]["value"] == 1:
        r["nasolabial_fold_severity"] = pair(v.worse_side_severity("nasolabial"), 1.0)
    r["dark_circle"] = pair(v.dark_circle_type(), 1.0)
    r["blackhead"] = pair(v.blackhead_level(), 1.0)
    les = v.lesions
    acne = les["acne"].boxes + les["acne_pustule"].boxes + les["acne_nodule"].boxes
    for key, boxes in (("acne", acne), ("closed_comedones", les["closed_comedones"].boxes),
                       ("skin_spot", les["brown_spot"].boxes), ("mole", les["mole"].boxes)):
        r[key] = Lesions(boxes).advanced(rect_confidence)
    if "red_area" in maps:
        r["face_maps"] = {"red_area": MapRenderer(v).render("red_area")}
        r["sensitivity"] = v.sensitivity()
    return out
