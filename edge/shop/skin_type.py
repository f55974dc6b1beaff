"""The skin-type rule: one place for the shop's skin profile and the vendor formats' `skin_type`.

A neutral leaf module: it imports nothing, so `edge/formats` may use it without depending on the rest of
the shop (tests/unit/test_layering.py checks both directions).
"""

from __future__ import annotations

from typing import Any

# skinquality's five dry/oil zones, in the order of skin_dryoil_check; grades "0" dry, "1" normal, "2" oily.
DRYOIL_ZONES = ("forehead", "nose", "cheek_left", "cheek_right", "chin")
GRADES = ("0", "1", "2")


def skin_type(dryoil: Any) -> str | None:
    """From the five dry/oil zone grades (forehead, nose, cheek L, cheek R, chin), the usual cosmetic
    definitions: oily when the T-zone (forehead or nose) and both cheeks are oily; combination when some
    zone is oily but not that (an oily T-zone with a cheek that is not, or oily cheeks under a T-zone that
    is not); dry when a zone is dry and none is oily; normal otherwise. None when the grades are not five
    of "0", "1", "2"."""
    if not isinstance(dryoil, list | tuple) or len(dryoil) != len(DRYOIL_ZONES) or not all(
            isinstance(v, str) and v in GRADES for v in dryoil):
        return None
    forehead, nose, left, right, _chin = dryoil
    if "2" in (forehead, nose) and left == right == "2":
        return "oily"
    if "2" in dryoil:
        return "combination"
    if "0" in dryoil:
        return "dry"
    return "normal"
