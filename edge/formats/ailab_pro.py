"""Pro tier (`.../skin-analysis-pro`): every measure per region, lesion objects with outlines, maps,
marks, side-photo results and `score_info` by the vendor's published formulas.

`score_info` keeps the vendor's clamps (sub-scores >= 30, total >= 70) for clients written against
it; `score_info_unclamped` holds the same formulas without clamps (README: use these in an honest UI).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from edge.formats import ailab_advanced
from edge.formats.ailab_maps import MapRenderer, side_outline_map
from edge.formats.ailab_measures import (
    BROWN_OD,
    RED_OD,
    Lesions,
    VendorView,
    clamp,
    lesions_of,
    pair,
    points,
    present,
)

if TYPE_CHECKING:
    from edge.pipeline import FaceGeometry

MARK_TOKENS = ("wrinkle_mark", "dark_circle_outline", "sensitivity_mark", "melanin_mark", "cheekbone_mark")
WRINKLE_LIST_TOKENS = ("forehead_wrinkle_list", "glabella_wrinkle_list") + tuple(
    f"{s}_{k}_list" for s in ("left", "right") for k in ("crowsfeet", "eye_wrinkle", "mouth", "nasolabial", "cheek"))
# list token -> wrinkle region (the vendor names the eye region's list "eye_wrinkle")
REGION_OF_LIST = {t: t.removesuffix("_list").replace("eye_wrinkle", "eye").removesuffix("_wrinkle") for t in WRINKLE_LIST_TOKENS}
SUB_SCORE_FLOOR, TOTAL_FLOOR = 30.0, 70.0  # the vendor's clamps (contract: real responses)
# acne_score = 100 - these weights x each kind's count (the vendor's published formula; marks do not count)
ACNE_SCORE_WEIGHTS = {"closed_comedones": 1.7, "acne": 2.4, "acne_pustule": 4.8, "acne_nodule": 9.8}
# pores_*_score = 100 - weight x the region's pore count; blackhead_score = 100 - weight x count (published)
PORE_SCORE_WEIGHTS = {"pores_forehead_score": ("forehead", 0.1), "pores_leftcheek_score": ("left_cheek", 0.22),
                      "pores_rightcheek_score": ("right_cheek", 0.22), "pores_jaw_score": ("chin", 0.16)}
BLACKHEAD_SCORE_WEIGHT = 0.3
# Dark-circle component penalties by level 0..3 (the vendor's published table).
PIGMENT_PENALTY, RETE_PENALTY, STRUCTURAL_PENALTY = (0, 7, 11, 16), (0, 9, 15, 20), (0, 11, 19, 28)
FRECKLE_MIN_SPOTS = 10  # freckles: at least this many brown spots on one face (a sprinkle, not a spot)
MELASMA_CHEEK_SHARE = 0.1  # melasma: >= 10 % of a cheek's skin brown (a patch, not spots)
# Wrinkle region -> (vendor severity key); the vendor's `_severity` names differ from its region names.
SEVERITY_KEY = {"forehead": "forehead_wrinkle_severity", "glabella": "glabella_wrinkle_severity",
                **{f"{s}_{r}": f"{s}_{k}_severity" for s in ("left", "right")
                   for r, k in (("mouth", "mouth_wrinkle"), ("crowsfeet", "crows_feet"), ("eye", "eye_finelines"),
                                ("nasolabial", "nasolabial_fold"), ("cheek", "cheek_wrinkle"))}}
FINE_LINE_KEYS = {"forehead_count": "forehead", "left_undereye_count": "left_eye", "right_undereye_count": "right_eye",
                  "left_cheek_count": "left_cheek", "right_cheek_count": "right_cheek",
                  "left_crowsfeet_count": "left_crowsfeet", "right_crowsfeet_count": "right_crowsfeet",
                  "glabella_count": "glabella"}
WRINKLE_COUNT_KEYS = {**FINE_LINE_KEYS, "left_mouth_count": "left_mouth", "right_mouth_count": "right_mouth",
                      "left_nasolabial_count": "left_nasolabial", "right_nasolabial_count": "right_nasolabial"}
WRINKLE_OUTLINE_KEYS = {"forehead": "head_wrinkle_outline", "left_eye": "left_eye_wrinkle_outline",
                        "right_eye": "right_eye_wrinkle_outline", "left_crowsfeet": "left_crowsfeet_wrinkle_outline",
                        "right_crowsfeet": "right_crowsfeet_wrinkle_outline", "glabella": "glabella_wrinkle_outline",
                        "left_mouth": "left_mouth_wrinkle_outline", "right_mouth": "right_mouth_wrinkle_outline",
                        "left_nasolabial": "left_nasolabial_wrinkle_outline",
                        "right_nasolabial": "right_nasolabial_wrinkle_outline",
                        "left_cheek": "left_cheek_wrinkle_outline", "right_cheek": "right_cheek_wrinkle_outline"}
REGION_ZONE = {"forehead": "forehead", "left_eye": "under_eye_left", "right_eye": "under_eye_right",
               "left_crowsfeet": "crows_feet_left", "right_crowsfeet": "crows_feet_right", "glabella": "glabella",
               "left_mouth": "perioral", "right_mouth": "perioral", "left_nasolabial": "nasolabial_left",
               "right_nasolabial": "nasolabial_right", "left_cheek": "cheek_left", "right_cheek": "cheek_right"}
OUTLINE_EPSILON_PX = 1.0  # region outline simplification (crop px)
# Jawline from a side photo (contract codes).
JAW_PASS, JAW_TOO_FRONTAL, JAW_TOO_TURNED, JAW_NO_FACE, JAW_WRONG_SIDE = 1, 2, 3, 4, 5
SIDE_MIN_YAW_DEG, SIDE_MAX_YAW_DEG = 20.0, 120.0  # a side photo turns the head by at least / at most this
JAW_STANDARD_DEG = (116.0, 120.0)  # the vendor's "standard" jawline angle band
# Mesh indices along one side of the jaw (MediaPipe topology): below the ear, the jaw corner, the chin.
JAW_POINTS = {"left": (361, 397, 152), "right": (132, 172, 152)}


@dataclass
class SideMeasures:
    """A side photo: its size and the face found on it (None: none), measured only as far as its results
    and map use it: the mesh and pose (jawline), the face oval (outline map) and its lesions."""

    image_size: tuple[int, int]
    face: FaceGeometry | None

    @property
    def lesions(self) -> dict[str, Lesions]:
        return lesions_of(self.face.face) if self.face is not None else {}


def acne_score(lesions: dict[str, Lesions]) -> float:
    """The vendor's acne_score, unclamped."""
    return 100 - sum(w * lesions[kind].count for kind, w in ACNE_SCORE_WEIGHTS.items())


def score_info(v: VendorView, *, sensitivity: dict[str, Any], melanin: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(score_info, score_info_unclamped): the vendor's published formulas on one set of measures, shaped
    with the vendor's clamps and without."""
    raw = {"pores_type_score": {key: 100 - w * v.pores[region] for key, (region, w) in PORE_SCORE_WEIGHTS.items()},
           "dark_circle_type_score": {f"{side}_dark_circle_score": 100 - (PIGMENT_PENALTY[e.pigment] + RETE_PENALTY[e.rete]
                                                                          + STRUCTURAL_PENALTY[e.structural])
                                      for side, e in v.eyes.items()},
           "blackhead_score": 100 - BLACKHEAD_SCORE_WEIGHT * v.blackhead_count, "acne_score": acne_score(v.lesions),
           "water_score": 100 - v.water()["water_severity"],
           "sensitivity_score": 100 - sensitivity["sensitivity_intensity"],
           "melanin_score": 100 - melanin["melanin_concentration"], "rough_score": 100 - v.rough()["rough_severity"],
           "oily_intensity_score": v.oily_score(), "wrinkle_score": 100 - v.wrinkle_score()}
    return _shape_scores(raw, clamped=True), _shape_scores(raw, clamped=False)


def _shape_scores(raw: dict[str, Any], *, clamped: bool) -> dict[str, Any]:
    """score_info from the raw sub-scores: each clamped (or not) and rounded, then the derived ones."""
    lo = SUB_SCORE_FLOOR if clamped else -np.inf

    def sub(x: float) -> float:
        return round(float(clamp(x, lo, 100.0)), 2)

    out: dict[str, Any] = {k: ({kk: sub(x) for kk, x in val.items()} if isinstance(val, dict) else sub(val))
                           for k, val in raw.items()}
    pores, sides = out["pores_type_score"], out["dark_circle_type_score"]
    out["pores_score"] = sub(float(np.mean(list(pores.values()))))
    out["dark_circle_score"] = sub(100 - (100 - sides["left_dark_circle_score"]) - (100 - sides["right_dark_circle_score"]))
    # a type band (1-15 normal, 16-40 dry, 41-60 combination, 61-100 oily), not goodness: never floored
    out["skin_type_score"] = round(clamp(100 - (out["water_score"] + out["oily_intensity_score"]) / 2, 0, 100), 2)
    total = ((out["wrinkle_score"] + out["pores_score"] + out["blackhead_score"] + out["acne_score"]
              + out["melanin_score"]) * 1.2 + (out["water_score"] + out["oily_intensity_score"] + out["rough_score"]) * 0.5
             + out["sensitivity_score"] + out["dark_circle_score"]) / 10
    out["total_score"] = round(float(clamp(total, TOTAL_FLOOR if clamped else -np.inf, 100.0)), 2)
    return out


def _outline_in_face(v: VendorView, zone: str) -> list[dict[str, int]]:
    """A region's outline clipped to the face oval (crow's-feet bands reach past the oval at the temples)."""
    m = v.m
    if zone not in m.region_masks:
        return []
    inside = (m.region_masks[zone] & m.region_masks["face"]).astype(np.uint8)
    contours, _ = cv2.findContours(inside, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return []
    c = cv2.approxPolyDP(max(contours, key=cv2.contourArea), OUTLINE_EPSILON_PX, True)
    return points(m.to_original(c.reshape(-1, 2)))


def _cheekbone(v: VendorView, side: str) -> list[dict[str, int]]:
    """The cheek region's upper edge (the cheekbone line), original px."""
    poly = v.m.regions.get(f"cheek_{side}")
    if poly is None or len(poly) < 3:
        return []
    pts = np.asarray(poly)
    upper = pts[pts[:, 1] <= np.median(pts[:, 1])]
    return points(upper[np.argsort(upper[:, 0])])


def jawline(side: str, s: SideMeasures) -> dict[str, Any]:
    key = f"{side}_jawline"
    if s.face is None:
        return {f"{key}_quality": JAW_NO_FACE}
    m = s.face
    yaw = m.pose.yaw_deg
    # turning to the person's left (yaw +) shows their right jaw; the left photo shows the left jaw
    shown = "right" if yaw > 0 else "left"
    if abs(yaw) < SIDE_MIN_YAW_DEG:
        return {f"{key}_quality": JAW_TOO_FRONTAL}
    if abs(yaw) > SIDE_MAX_YAW_DEG:
        return {f"{key}_quality": JAW_TOO_TURNED}
    if shown != side:
        return {f"{key}_quality": JAW_WRONG_SIDE}
    a, corner, chin = (m.landmarks[i] for i in JAW_POINTS[side])
    u, w = a - corner, chin - corner
    cos = float(np.dot(u, w) / max(np.linalg.norm(u) * np.linalg.norm(w), 1e-9))
    angle = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    lo, hi = JAW_STANDARD_DEG
    return {f"{key}_quality": JAW_PASS, f"{key}_angle": round(angle, 2),
            f"{key}_mark": points(np.array([a, corner, chin])),
            f"{key}_angle_level": 0 if lo <= angle <= hi else 1}


def side_result(side: str, s: SideMeasures) -> dict[str, Any]:
    out: dict[str, Any] = {f"{side}_jawline_info": jawline(side, s)}
    if s.face is not None:
        les = s.lesions
        out[f"{side}_acne_info"] = {"score": round(clamp(acne_score(les), SUB_SCORE_FLOOR, 100), 2),
                                    **{k: les[k].pro() for k in ("acne", "acne_pustule", "acne_nodule", "acne_mark",
                                                                 "closed_comedones")}}
        out[f"{side}_melanin_info"] = {"mole": les["mole"].pro(), "brown_spot": les["brown_spot"].pro()}
    return out


def render(v: VendorView, *, maps: tuple[str, ...], marks: tuple[str, ...], colors: dict[str, str] | None,
           sides: dict[str, SideMeasures], side_results: bool) -> dict[str, Any]:
    m = v.m
    r: dict[str, Any] = {}
    fr = MapRenderer(v).bw_rect()
    w, h = m.image_size
    forehead_skin = m.region_masks.get("forehead")
    hair = 1.0 - float((forehead_skin & m.skin).sum()) / float(forehead_skin.sum()) if forehead_skin is not None and forehead_skin.any() else 0.0
    r["image_quality"] = {"face_ratio": round(fr["width"] * fr["height"] / float(w * h), 4),
                          "face_orientation": {"yaw": round(m.pose.yaw_deg, 2), "pitch": round(m.pose.pitch_deg, 2),
                                               "roll": round(m.pose.roll_deg, 2)},
                          "face_rect": fr, "hair_occlusion": round(clamp(hair, 0, 1), 4),
                          "glasses": 0}  # not detected by the device (README)
    kind, conf = v.skin_type()
    r["skin_type"] = {"skin_type": kind, "details": [pair(int(i == kind), c) for i, c in enumerate(conf)]}
    r["oily_intensity"] = v.oily()
    r["water"] = v.water()
    r["rough"] = v.rough()
    r["skintone"] = v.skin_color()
    r["skintone_ita"] = v.skintone_ita()
    ha, hue = v.skin_hue()
    r["skin_hue_ha"] = {"HA": ha, "skin_hue": hue}
    r["blackhead"] = pair(v.blackhead_level(), 1.0)
    r["blackhead_count"] = v.blackhead_count
    r["enlarged_pore_count"] = {f"{k}_count": n for k, n in v.pores.items()}
    for key, region in (("pores_forehead", "forehead"), ("pores_left_cheek", "left_cheek"),
                        ("pores_right_cheek", "right_cheek"), ("pores_jaw", "chin")):
        r[key] = pair(v.pore_level(region), 1.0)
    for kind_name in ("mole", "brown_spot", "acne", "acne_pustule", "acne_nodule", "acne_mark", "closed_comedones"):
        r[kind_name] = v.lesions[kind_name].pro()
    melanin, sensitivity = v.melanin(), v.sensitivity()
    r["freckle"] = present(v.lesions["brown_spot"].count >= FRECKLE_MIN_SPOTS)
    r["melasma"] = present(max(melanin["brown_leftcheek"], melanin["brown_rightcheek"]) >= MELASMA_CHEEK_SHARE)
    if "brown_area" in maps:
        r["melanin"] = melanin
    if "red_area" in maps:
        r["sensitivity"] = sensitivity
        r["sensitivity_type_v1"] = 1 if v.sensitive_level() == 2 else 0
    if "melanin_mark" in marks:
        r["melanin_mark"] = {"polygon": v.mark_polygons(m.melanin_excess, BROWN_OD)}
    if "sensitivity_mark" in marks:
        r["sensitivity_mark"] = {"polygon": v.mark_polygons(m.hemoglobin_excess, RED_OD)}
    # ageing
    tone = ailab_advanced.tone(v)
    r["skin_age"] = tone["skin_age"]
    r.update(v.wrinkle_flags())
    if r["nasolabial_fold"]["value"] == 1:
        r["nasolabial_fold_severity"] = pair(v.worse_side_severity("nasolabial"), 1.0)
    if r["eye_finelines"]["value"] == 1:
        r["eye_finelines_severity"] = pair(v.worse_side_severity("eye"), 1.0)
    for region, key in SEVERITY_KEY.items():
        r[key] = {"value": v.wrinkles[region].level}
    r["fine_line"] = {k: v.wrinkles[reg].info()["wrinkle_shallow_num"] for k, reg in FINE_LINE_KEYS.items()}
    r["wrinkle_count"] = {k: len(v.wrinkles[reg].lines) for k, reg in WRINKLE_COUNT_KEYS.items()}
    listed = {REGION_OF_LIST[t] for t in marks if t in REGION_OF_LIST}
    for region, wr in v.wrinkles.items():
        info = wr.info()
        if region in listed and wr.lines:
            info[f"{region}_wrinkle_list"] = wr.wrinkle_list()
        r[f"{region}_wrinkle_info"] = info
    if "wrinkle_mark" in marks:
        r["wrinkle_mark"] = {key: _outline_in_face(v, REGION_ZONE[reg]) for reg, key in WRINKLE_OUTLINE_KEYS.items()}
    if "cheekbone_mark" in marks:
        r["cheekbone_mark"] = {f"{s}_cheekbone_mark": _cheekbone(v, s) for s in ("left", "right")}
    # eyes
    r["eye_pouch"] = present(v.eye_pouch())
    if r["eye_pouch"]["value"] == 1:
        r["eye_pouch_severity"] = pair(v.eye_pouch_severity(), 1.0)
    r["dark_circle"] = pair(v.dark_circle_type(), 1.0)
    if r["dark_circle"]["value"] != 0:
        r["dark_circle_severity"] = pair(v.dark_circle_severity(), 1.0)
    for side in ("left", "right"):
        e = v.eyes[side]
        r[f"{side}_dark_circle_rete"] = {"value": e.rete}
        r[f"{side}_dark_circle_pigment"] = {"value": e.pigment}
        r[f"{side}_dark_circle_structural"] = {"value": e.structural}
        r[f"{side}_eye_pouch_rect"] = v.eye_rect(side)
    r["dark_circle_mark"] = {"left_eye_rect": v.eye_rect("left"), "right_eye_rect": v.eye_rect("right")}
    if "dark_circle_outline" in marks:
        r["dark_circle_outline"] = {f"{s}_dark_circle_outline": v.eyes[s].outline for s in ("left", "right")}
    # maps
    front = [t for t in maps if not t.startswith(("left_", "right_"))]
    side_maps = [t for t in maps if t.startswith(("left_", "right_"))]
    if front or side_maps:
        renderer = MapRenderer(v, colors)
        r["face_maps"] = renderer.render_all(front)
        for t in side_maps:
            s = sides.get(t.split("_")[0])
            if s is not None:
                oval = s.face.regions.get("face") if s.face is not None else None
                r["face_maps"][t] = side_outline_map(s.image_size, oval)
        if "texture_enhanced_bw" in front:
            r["enhanced_bw_info"] = {"enhanced_bw_rect": fr, "ratio": 1}
    r["score_info"], r["score_info_unclamped"] = score_info(v, sensitivity=sensitivity, melanin=melanin)
    out: dict[str, Any] = {"face_rectangle": v.face_rectangle(), "result": r}
    if side_results:
        for side, s in sides.items():
            out[f"{side}_side_result"] = side_result(side, s)
    return out
