"""The vendor-tier renderers (edge/formats/ailab_*) on truth-known measurements: the measurements of
the test portrait with parts replaced by known values (lesion lists, dry/oil zones, wrinkles, a turned
mesh), so each mapping rule is checked against the value it must give."""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest

from edge.face.pose import head_pose
from edge.formats import ailab_advanced, ailab_basic, ailab_pro
from edge.formats.ailab_measures import VendorView
from edge.pipeline import StageTimer
from tests.unit.lines_eyes_scenes import portrait_image
from tests.unit.test_tracker import rotate


@pytest.fixture(scope="module")
def measures(engine):
    return engine.measure(portrait_image())[0]


def with_face(measures, **parts):
    face = copy.deepcopy(measures.face)
    for key, value in parts.items():
        face[key] = value
    return dataclasses.replace(measures, face=face)


def box(x: float, y: float, score: float = 0.8, type_: int | None = None, half: float = 4.0) -> dict:
    b = {"score": score, "left": x - half, "top": y - half, "right": x + half, "bottom": y + half}
    return b if type_ is None else {"type": type_, **b}


def test_seed_acne_types_become_the_vendor_kinds(measures) -> None:
    asm = {"acne_num": 4, "acne_list": [box(900, 500, type_=t) for t in (0, 1, 2, 3)], "speckle_num": 1,
           "speckle_list": [box(950, 520, type_=1)], "mole_num": 1, "mole_list": [box(980, 540)]}
    v = VendorView(with_face(measures, acnespotmole=asm))
    counts = {k: v.lesions[k].count for k in v.lesions}
    assert counts == {"closed_comedones": 1, "acne_mark": 1, "acne": 1, "acne_nodule": 1, "acne_pustule": 0,
                      "brown_spot": 1, "mole": 1}
    lesion = v.lesions["acne"].pro()
    assert lesion["rectangle"] == [{"left": 896, "top": 496, "width": 8, "height": 8}]
    assert lesion["count"] == 1 and len(lesion["polygon"][0]) == 12
    assert all(abs(math.hypot(p["x"] - 900, p["y"] - 500) - 4) <= 1 for p in lesion["polygon"][0])
    basic = ailab_basic.render(v)["result"]
    assert basic["acne"] == {"value": 1, "confidence": 0.8}  # comedones, papules, nodules; not marks
    adv = ailab_advanced.render(v, rect_confidence=True, maps=())["result"]
    assert len(adv["acne"]["rectangle"]) == 2 and len(adv["closed_comedones"]["rectangle"]) == 1


@pytest.mark.parametrize("zones,kind", [
    (["2", "2", "2", "2", "2"], 0),  # oily everywhere
    (["0", "1", "0", "0", "1"], 1),  # dry, no shine anywhere
    (["1", "1", "1", "1", "1"], 2),  # normal
    (["2", "2", "1", "1", "1"], 3),  # oily T-zone, normal cheeks: combination
])
def test_skin_type_from_the_five_dry_oil_zones(measures, zones: list[str], kind: int) -> None:
    quality = {**measures.face["skinquality"], "skin_dryoil_check": zones}
    v = VendorView(with_face(measures, skinquality=quality))
    assert v.skin_type()[0] == kind
    assert ailab_basic.render(v)["result"]["skin_type"]["details"][str(kind)]["value"] == 1


def test_acne_score_floor_and_the_unclamped_twin(measures) -> None:
    many = [box(800 + 5 * i, 500, type_=3) for i in range(10)]  # 10 nodules: 100 - 98 = 2
    v = VendorView(with_face(measures, acnespotmole={"acne_num": 10, "acne_list": many, "speckle_num": 0,
                                                     "speckle_list": [], "mole_num": 0, "mole_list": []}))
    res = ailab_pro.render(v, maps=(), marks=(), colors=None, sides={}, side_results=False)["result"]
    assert res["score_info_unclamped"]["acne_score"] == pytest.approx(2.0)
    assert res["score_info"]["acne_score"] == 30.0
    assert res["score_info"]["total_score"] >= 70.0


def test_mouth_lines_split_at_the_midline(measures) -> None:
    lm = measures.landmarks
    nose, chin = lm[168], lm[152]
    mid_x = (nose[0] + chin[0]) / 2
    y = chin[1] - 0.25 * (chin[1] - nose[1])

    def line(x: float) -> list[dict]:
        return [{"x": x, "y": y + d} for d in range(0, 20, 4)]

    wrinkle = {"wrinkle_num": 2, "wrinkle_types": [6, 6], "wrinkle_data": [line(mid_x + 60), line(mid_x - 60)]}
    ext = copy.deepcopy(measures.face["extended"])
    ext["wrinkle"] = {"length_mm": [10.0, 5.0], "depth_od": [0.12, 0.05], "zone": ["perioral", "perioral"]}
    v = VendorView(with_face(measures, wrinkle=wrinkle, extended=ext))
    left, right = v.wrinkles["left_mouth"], v.wrinkles["right_mouth"]
    # the person's left appears at larger x in an unmirrored photo (shared contract)
    assert (left.length_mm, right.length_mm) == ([10.0], [5.0])
    assert (left.deep_num, right.deep_num) == (1, 0)
    assert left.score == round(100 * 10 * 0.12 / 4.0) and left.level == 1


def test_eyelids_are_reported_as_not_measured(measures) -> None:
    res = ailab_basic.render(VendorView(measures))["result"]
    assert res["left_eyelids"] == res["right_eyelids"] == {"value": 0, "confidence": 0.0}


def _side(measures, yaw_deg: float) -> ailab_pro.SideMeasures:
    """The portrait's mesh turned by yaw_deg (3D rotation, then projected: x, y of the turned points)."""
    pts = np.column_stack([measures.landmarks, np.zeros(len(measures.landmarks))])
    # depth of a face: use the mesh's own z scaled like x, y (landmarks carry only x, y here)
    depth = np.hypot(*(measures.landmarks - measures.landmarks.mean(0)).T)
    pts[:, 2] = depth.max() - depth
    turned = rotate(pts, yaw_deg=yaw_deg)
    m = dataclasses.replace(measures, landmarks=turned[:, :2], pose=head_pose(turned, 0.0))
    return ailab_pro.SideMeasures(m.image_size, m)


def test_jawline_from_a_turned_face(measures) -> None:
    side = _side(measures, 45.0)
    assert side.face.pose.yaw_deg > 20
    right = ailab_pro.jawline("right", side)
    assert right["right_jawline_quality"] == ailab_pro.JAW_PASS
    assert 60 < right["right_jawline_angle"] < 180 and right["right_jawline_angle_level"] in (0, 1)
    assert len(right["right_jawline_mark"]) == 3
    assert ailab_pro.jawline("left", side) == {"left_jawline_quality": ailab_pro.JAW_WRONG_SIDE}
    assert ailab_pro.jawline("left", _side(measures, 0.0)) == {"left_jawline_quality": ailab_pro.JAW_TOO_FRONTAL}
    assert ailab_pro.jawline("left", ailab_pro.SideMeasures((640, 480), None)) == {"left_jawline_quality": 4}


def test_a_side_photo_is_measured_for_its_lesions_only(engine, measures) -> None:
    """measure_geometry runs the face stages and the fields asked for, and no pixel maps; what it gives
    a side photo's results (lesions, mesh, pose, face oval) equals the full measurement's."""
    timer = StageTimer()
    side = engine.measure_geometry(portrait_image(), ["acnespotmole"], timer=timer)[0]
    assert set(timer.ms) == {"detect", "mesh", "regions", "acnespotmole"}
    assert set(side.face) == {"face_token", "location", "acnespotmole"}
    assert side.face["acnespotmole"] == measures.face["acnespotmole"]
    assert np.array_equal(side.landmarks, measures.landmarks) and side.pose == measures.pose
    assert np.array_equal(side.regions["face"], measures.regions["face"])
    full, light = (ailab_pro.SideMeasures(m.image_size, m) for m in (measures, side))
    assert ailab_pro.side_result("left", light) == ailab_pro.side_result("left", full)


def test_face_rectangle_starts_at_the_brows(measures) -> None:
    """Eyebrows to chin (contract): on the upright portrait the box's top is the brows' highest point and
    its bottom the mesh's lowest (the chin); the seed `location` also covers the forehead."""
    from edge.face.regions import LEFT_BROW, RIGHT_BROW

    lm = measures.landmarks
    box = VendorView(measures).face_rectangle()
    assert box["top"] == round(lm[list(LEFT_BROW + RIGHT_BROW), 1].min())
    assert box["top"] + box["height"] == pytest.approx(lm[:, 1].max(), abs=1)
    assert box["top"] > measures.face["location"]["top"]


def test_unmeasurable_colour_reads_abnormal_or_confidence_zero(measures) -> None:
    """docs/ailab/README.md: ITA and hue use the contract's "abnormal" values (6, 3); skin_color has none in
    the contract, so it is the middle class with confidence 0, in Advanced and Pro alike."""
    ext = copy.deepcopy(measures.face["extended"])
    ext["color"]["reliable"] = False
    v = VendorView(with_face(measures, extended=ext))
    adv = ailab_advanced.render(v, rect_confidence=False, maps=())["result"]
    pro = ailab_pro.render(v, maps=(), marks=(), colors=None, sides={}, side_results=False)["result"]
    assert adv["skin_color"] == pro["skintone"] == {"value": 2, "confidence": 0.0}
    assert adv["skintone_ita"]["skintone"] == pro["skintone_ita"]["skintone"] == 6
    assert adv["skin_hue_ha"]["skintone"] == pro["skin_hue_ha"]["skin_hue"] == 3


def test_paired_severities_are_the_worse_side_level_minus_one(measures) -> None:
    """eye_finelines_severity and nasolabial_fold_severity (Advanced and Pro): the worse side's level
    (1..3, by thirds of wrinkle_score = 100 x length mm x depth OD / 4) minus one."""
    line = [{"x": 500.0, "y": 500.0}, {"x": 510.0, "y": 500.0}]
    wrinkle = {"wrinkle_num": 3, "wrinkle_types": [0, 0, 0], "wrinkle_data": [line, line, line]}
    ext = copy.deepcopy(measures.face["extended"])
    # under-eye left: score 50 (level 2); nasolabial right: score 100 (level 3), left: score 10 (level 1)
    ext["wrinkle"] = {"length_mm": [10.0, 20.0, 2.0], "depth_od": [0.2, 0.2, 0.2],
                      "zone": ["under_eye_left", "nasolabial_right", "nasolabial_left"]}
    v = VendorView(with_face(measures, wrinkle=wrinkle, extended=ext))
    assert (v.wrinkles["left_eye"].level, v.wrinkles["right_nasolabial"].level) == (2, 3)
    pro = ailab_pro.render(v, maps=(), marks=(), colors=None, sides={}, side_results=False)["result"]
    adv = ailab_advanced.render(v, rect_confidence=False, maps=())["result"]
    assert pro["eye_finelines_severity"]["value"] == 1
    assert pro["nasolabial_fold_severity"]["value"] == adv["nasolabial_fold_severity"]["value"] == 2


def test_one_skin_type_rule_for_the_vendor_and_the_shop(measures) -> None:
    """Every one of the 3^5 = 243 dry/oil grade combinations: the vendor tiers' skin_type and the shop's
    skin profile both give the type of edge/shop/skin_type.py (they were two copies that disagreed on 12)."""
    from collections import Counter
    from itertools import product

    from edge.formats.ailab_measures import SKIN_TYPE_CODES
    from edge.shop.concerns import skin_profile
    from edge.shop.skin_type import skin_type
    from edge.shop.vocabulary import SKIN_TYPES

    kinds: Counter[str] = Counter()
    for grades in product("012", repeat=5):
        zones = list(grades)
        kind = skin_type(zones)
        assert kind in SKIN_TYPES
        kinds[kind] += 1
        quality = {**measures.face["skinquality"], "skin_dryoil_check": zones}
        assert VendorView(with_face(measures, skinquality=quality)).skin_type()[0] == SKIN_TYPE_CODES[kind], zones
        assert skin_profile({"skinquality": {"skin_dryoil_check": zones}}).skin_type == kind, zones
    # oily: T-zone (3^2 - 2^2 = 5 ways) x both cheeks oily x any chin; dry: no "2" and some "0" (2^5 - 1);
    # normal: all "1"; combination: the rest.
    assert kinds == {"oily": 15, "dry": 31, "normal": 1, "combination": 196}
    # the twelve the copies disagreed on: oily cheeks under a T-zone that is not oily
    assert skin_type(["0", "0", "2", "2", "0"]) == skin_type(["1", "1", "2", "2", "1"]) == "combination"
