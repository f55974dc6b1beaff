"""Basic tier (`/api/portrait/analysis/skin-analysis`): presence flags, eyelids and skin type."""

from __future__ import annotations

from typing import Any

from edge.formats.ailab_measures import VendorView, pair, present

# The device does not classify eyelids (single / double): reported as the contract's first value with
# confidence 0, i.e. "not measured" (README).
EYELID_NOT_MEASURED = pair(0, 0.0)


def flags(v: VendorView) -> dict[str, Any]:
    """The 0/1 keys Basic and Advanced share."""
    les = v.lesions
    active = [b["score"] for k in ("acne", "acne_pustule", "acne_nodule", "closed_comedones") for b in les[k].boxes]
    return {
        "left_eyelids": dict(EYELID_NOT_MEASURED), "right_eyelids": dict(EYELID_NOT_MEASURED),
        "eye_pouch": present(v.eye_pouch()),
        "dark_circle": present(v.dark_circle_type() != 0),
        **v.wrinkle_flags(),
        "blackhead": present(v.blackhead_count > 0),
        "acne": present(bool(active), active),
        "mole": present(les["mole"].count > 0, [b["score"] for b in les["mole"].boxes]),
        "skin_spot": present(les["brown_spot"].count > 0, [b["score"] for b in les["brown_spot"].boxes]),
        "pores_forehead": present(v.pores["forehead"] > 0),
        "pores_left_cheek": present(v.pores["left_cheek"] > 0),
        "pores_right_cheek": present(v.pores["right_cheek"] > 0),
        "pores_jaw": present(v.pores["chin"] > 0),
    }


def skin_type_dict(v: VendorView) -> dict[str, Any]:
    kind, conf = v.skin_type()
    return {"skin_type": kind, "details": {str(i): pair(int(i == kind), c) for i, c in enumerate(conf)}}


def render(v: VendorView) -> dict[str, Any]:
    return {"warning": v.warning(), "face_rectangle": v.face_rectangle(),
            "result": {**flags(v), "skin_type": skin_type_dict(v)}}
