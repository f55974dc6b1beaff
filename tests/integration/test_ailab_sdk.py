"""The vendor's three tiers through its official SDK (`ailabtools-sdk`) against real uvicorn on 127.0.0.1:
responses validate against docs/ailab/*.schema.json (written from shared/contract-ailab.md), errors
arrive as the SDK's `AILabApiError` with the contract's status and code, and the numbers hold together:
score_info recomputed from the same response, geometry inside the face, maps at the photo's size, and
the seed endpoint and the three tiers agreeing on what they found."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import cv2
import httpx
import jsonschema
import numpy as np
import pytest
from ailabtools import AILabClient
from ailabtools.errors import AILabApiError
from api_harness import DEMO_PHOTO, REPO_ROOT, GatedEngine, Server, api_settings, running

from edge.api.app import create_app
from edge.api.live import ReplayLive
from edge.formats.ailab_maps import FRONT_MAPS, MAP_TOKENS
from edge.formats.ailab_pro import MARK_TOKENS, WRINKLE_LIST_TOKENS

KEY = "ailab-test-key"
SCHEMAS = {t: json.loads((REPO_ROOT / "docs" / "ailab" / f"ailab_{t}.schema.json").read_text())
           for t in ("basic", "advanced", "pro")}
ALL_MARKS = ",".join(MARK_TOKENS + WRINKLE_LIST_TOKENS)
ALL_MAPS = ",".join(MAP_TOKENS)
FACE_MARGIN_PX = 3  # geometry may touch the face oval's bounding box by a rounding step


def jpeg(img: np.ndarray, quality: int = 92) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def portrait() -> np.ndarray:
    """The public-domain astronaut at twice its size (face ~185 px wide, above the contract's 160)."""
    from skimage import data

    src = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    return cv2.resize(src, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


def side_view() -> np.ndarray:
    """A frontal photo sent as a side image (no public-domain profile photo is at hand): the jawline is
    refused as too frontal (code 2); the angle itself is tested on turned meshes in tests/unit."""
    from skimage import data

    return cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (640, 640))


# Far above what this module sends in a minute: the rate limit has its own test (with its own server).
RATE_LIMIT_PER_MINUTE = 10_000
PATHS = {"basic": "skin-analysis", "advanced": "skin-analysis-advanced", "pro": "skin-analysis-pro"}
BOUNDARY = "kiosk-test-boundary"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    settings = api_settings(api_keys=[KEY], workers=1, rate_limit_per_minute=RATE_LIMIT_PER_MINUTE)
    with running(create_app(settings)) as srv:
        yield srv


@pytest.fixture(scope="module")
def photo() -> bytes:
    return jpeg(portrait())


def call(server: Server, tier: str, params: dict[str, Any], key: str = KEY) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        client = AILabClient(key, base_url=server.base_url, timeout=60)
        try:
            method = {"basic": client.portrait.portraitSkinAnalysisBasic,
                      "advanced": client.portrait.portraitSkinAnalysisAdvanced,
                      "pro": client.portrait.portraitSkinAnalysisProfessional}[tier]
            return await method(params)
        finally:
            await client.aclose()

    return asyncio.run(go())


def raw(server: Server, tier: str, key: str = KEY, **kwargs: Any) -> httpx.Response:
    """A hand-made request (httpx) for what the SDK never sends: malformed or streamed bodies."""
    headers = {"ailabapi-api-key": key, **kwargs.pop("headers", {})}
    return httpx.post(f"{server.base_url}/api/portrait/analysis/{PATHS[tier]}", headers=headers, timeout=60, **kwargs)


def contract_error(response: httpx.Response) -> tuple[int, str]:
    """(HTTP status, error_detail.code), after checking the envelope's own copies of the status."""
    body = response.json()
    assert body["error_code"] == body["error_detail"]["status_code"] == response.status_code
    return response.status_code, body["error_detail"]["code"]


def sdk_error(server: Server, tier: str, params: dict[str, Any], key: str = KEY) -> AILabApiError:
    with pytest.raises(AILabApiError) as info:
        call(server, tier, params, key)
    err = info.value
    assert err.detail is not None and isinstance(err.raw, dict)
    assert err.raw["error_code"] == err.detail.status_code  # HTTP status = error_code = status_code
    return err


def validate(tier: str, response: dict[str, Any]) -> None:
    errors = sorted(jsonschema.Draft202012Validator(SCHEMAS[tier]).iter_errors(response), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:200]}" for e in errors[:10])


def decode(b64: str) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(base64.b64decode(b64, validate=True), np.uint8), cv2.IMREAD_UNCHANGED)
    assert img is not None
    return img


# --- the three tiers validate ------------------------------------------------------------------------
def test_basic_validates(server: Server, photo: bytes) -> None:
    r = call(server, "basic", {"image": photo})
    validate("basic", r)
    assert "data" not in r and r["error_code"] == 0 and isinstance(r["result"]["skin_type"]["details"], dict)


@pytest.mark.parametrize("params", [
    {},
    {"faceQualityControl": 1},
    {"returnRectConfidence": 1},
    {"returnMaps": "red_area"},
    {"faceQualityControl": 1, "returnRectConfidence": 1, "returnMaps": "red_area"},
], ids=["plain", "quality_control", "rect_confidence", "red_area", "all"])
def test_advanced_validates(server: Server, photo: bytes, params: dict[str, Any]) -> None:
    r = call(server, "advanced", {"image": photo, **params})
    validate("advanced", r)
    res = r["result"]
    for key in ("acne", "closed_comedones", "skin_spot", "mole"):
        assert ("confidence" in res[key]) == bool(params.get("returnRectConfidence"))
        if "confidence" in res[key]:
            assert len(res[key]["confidence"]) == len(res[key]["rectangle"])
    assert ("face_maps" in res) == ("returnMaps" in params) == ("sensitivity" in res)
    if "face_maps" in res:
        assert decode(res["face_maps"]["red_area"]).shape[:2] == portrait().shape[:2]


@pytest.fixture(scope="module")
def pro(server: Server, photo: bytes) -> dict[str, Any]:
    side = jpeg(side_view())
    return call(server, "pro", {"image": photo, "returnMaps": ALL_MAPS, "returnMarks": ALL_MARKS,
                                "roiOutlineColor": json.dumps({"acne_color": "00FF00"}),
                                "leftSideImage": side, "rightSideImage": side, "returnSideResults": "jawline_info"})


def test_pro_with_every_map_mark_and_side_images_validates(pro: dict[str, Any]) -> None:
    validate("pro", pro)
    res = pro["result"]
    for token in MARK_TOKENS:
        assert token in res, token
    assert set(res["face_maps"]) == set(MAP_TOKENS)
    for side in ("left", "right"):
        result = pro[f"{side}_side_result"]
        assert result[f"{side}_jawline_info"] == {f"{side}_jawline_quality": 2}  # too frontal
        assert set(result[f"{side}_acne_info"]) == {"score", "acne", "acne_pustule", "acne_nodule", "acne_mark",
                                                    "closed_comedones"}


def test_pro_without_options_has_no_optional_keys(server: Server, photo: bytes) -> None:
    r = call(server, "pro", {"image": photo})
    validate("pro", r)
    for key in ("face_maps", "melanin", "sensitivity", "wrinkle_mark", "dark_circle_outline", "left_side_result"):
        assert key not in r["result"] and key not in r


# --- errors through the SDK ------------------------------------------------------------------------
def test_no_face(server: Server) -> None:
    err = sdk_error(server, "basic", {"image": jpeg(np.full((480, 640, 3), 128, np.uint8))})
    assert (err.detail.status_code, err.detail.code) == (422, "ERROR_NO_FACE_IN_FILE")
    assert err.detail.message == "pic not has face"  # the vendor's own words (contract)


def test_file_over_basic_limit(server: Server) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (1500, 1500, 3), dtype=np.uint8)
    big = jpeg(noise, 95)
    assert 2 * 1024 * 1024 < len(big) < 5 * 1024 * 1024  # over Basic's 2 MB, under Advanced's 5 MB
    err = sdk_error(server, "basic", {"image": big})
    assert (err.detail.status_code, err.detail.code) == (413, "FILE_SIZE_EXCEEDS_LIMIT")


def test_low_resolution(server: Server) -> None:
    err = sdk_error(server, "advanced", {"image": jpeg(cv2.resize(portrait(), (150, 150)))})
    assert (err.detail.status_code, err.detail.code) == (422, "ERROR_LOW_RESOLUTION")


@pytest.mark.parametrize("tier,params,code", [
    ("advanced", {"returnMaps": "1"}, "UNSUPPORTED_PARAMETER_VALUES"),
    ("advanced", {"returnMaps": "brown_area"}, "UNSUPPORTED_PARAMETER_VALUES"),  # Pro only
    ("advanced", {"faceQualityControl": 2}, "UNSUPPORTED_PARAMETER_VALUES"),
    ("pro", {"returnMarks": "wrinkle_mark,nose_mark"}, "UNSUPPORTED_PARAMETER_VALUES"),
    ("pro", {"roiOutlineColor": '{"acne_color": "red"}'}, "ERROR_INVALID_PARAMETER_FORMAT"),
    ("pro", {"roiOutlineColor": "not json"}, "ERROR_INVALID_PARAMETER_FORMAT"),
    # nested deeper than json's recursion limit: under the text-field cap, and far over it
    ("pro", {"roiOutlineColor": "[" * 3000}, "ERROR_INVALID_PARAMETER_FORMAT"),
    ("pro", {"roiOutlineColor": "[" * 100_000}, "ERROR_INVALID_PARAMETER_FORMAT"),
])
def test_bad_parameters(server: Server, photo: bytes, tier: str, params: dict[str, Any], code: str) -> None:
    err = sdk_error(server, tier, {"image": photo, **params})
    assert (err.detail.status_code, err.detail.code) == (400, code)


def test_wrong_key(server: Server, photo: bytes) -> None:
    err = sdk_error(server, "basic", {"image": photo}, key="wrong")
    assert (err.detail.status_code, err.detail.code) == (401, "ERROR_USER_NOT_EXISTS")


def test_missing_image_and_unsupported_file(server: Server) -> None:
    r = httpx.post(server.base_url + "/api/portrait/analysis/skin-analysis", headers={"ailabapi-api-key": KEY},
                   data={"face_quality_control": "0"}, files={"other": ("x.txt", b"x")})
    assert r.status_code == 400 and r.json()["error_detail"]["code"] == "MISSING_PARAMETERS"
    err = sdk_error(server, "basic", {"image": b"GIF89a" + bytes(100)})
    assert (err.detail.status_code, err.detail.code) == (415, "UNSUPPORTED_FILE_TYPES")


def test_quality_control_rejects_a_blurred_face(server: Server) -> None:
    blurred = jpeg(cv2.GaussianBlur(portrait(), (0, 0), 6))
    assert call(server, "advanced", {"image": blurred})["error_code"] == 0  # analysed without the gate
    err = sdk_error(server, "advanced", {"image": blurred, "faceQualityControl": 1})
    assert (err.detail.status_code, err.detail.code) == (422, "ERROR_POOR_FACE_QUALITY")
    assert "blur" in err.detail.message


GATE = api_settings().gate
TILT_DEG = 2 * GATE.max_abs_roll_deg  # twice the gate's roll limit: clearly a tilted head
DARKEN = 0.25  # a quarter of the light: the portrait's face brightness ~41, under the gate's 70


def _tilted(img: np.ndarray, degrees: float) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize("case,why", [("tilted", "head pose"), ("dark", "too dark")])
def test_quality_control_rejects_a_turned_or_dark_face(server: Server, case: str, why: str) -> None:
    img = _tilted(portrait(), TILT_DEG) if case == "tilted" else (portrait() * DARKEN).astype(np.uint8)
    assert call(server, "advanced", {"image": jpeg(img)})["error_code"] == 0  # analysed without the gate
    err = sdk_error(server, "advanced", {"image": jpeg(img), "faceQualityControl": 1})
    assert (err.detail.status_code, err.detail.code) == (422, "ERROR_POOR_FACE_QUALITY")
    assert why in err.detail.message


def test_quality_control_rejects_a_small_face(server: Server) -> None:
    from skimage import data

    small = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)  # face ~92 px wide: under 160
    err = sdk_error(server, "advanced", {"image": jpeg(small), "faceQualityControl": 1})
    assert (err.detail.status_code, err.detail.code) == (422, "ERROR_FACE_SIZE_NOT_MEET_REQUIREMENTS")


# --- consistency -----------------------------------------------------------------------------------
def _clamp(v: float, lo: float) -> float:
    return min(max(v, lo), 100.0)


def recomputed_scores(res: dict[str, Any], floor: float, total_floor: float) -> dict[str, float]:
    """score_info from the same response's counts and severities (the contract's formulas)."""
    pc = res["enlarged_pore_count"]
    pores = [_clamp(100 - 0.1 * pc["forehead_count"], floor), _clamp(100 - 0.22 * pc["left_cheek_count"], floor),
             _clamp(100 - 0.22 * pc["right_cheek_count"], floor), _clamp(100 - 0.16 * pc["chin_count"], floor)]
    acne = 100 - (1.7 * res["closed_comedones"]["count"] + 2.4 * res["acne"]["count"]
                  + 4.8 * res["acne_pustule"]["count"] + 9.8 * res["acne_nodule"]["count"])
    sides = []
    for side in ("left", "right"):
        pig = (0, 7, 11, 16)[res[f"{side}_dark_circle_pigment"]["value"]]
        rete = (0, 9, 15, 20)[res[f"{side}_dark_circle_rete"]["value"]]
        struct = (0, 11, 19, 28)[res[f"{side}_dark_circle_structural"]["value"]]
        sides.append(_clamp(100 - (pig + rete + struct), floor))
    searched = [k for k in res if k.endswith("_wrinkle_info") and "cheek" not in k]
    s = {"pores": _clamp(float(np.mean(pores)), floor), "blackhead": _clamp(100 - 0.3 * res["blackhead_count"], floor),
         "acne": _clamp(acne, floor), "water": _clamp(100 - res["water"]["water_severity"], floor),
         "sensitivity": _clamp(100 - res["sensitivity"]["sensitivity_intensity"], floor),
         "melanin": _clamp(100 - res["melanin"]["melanin_concentration"], floor),
         "rough": _clamp(100 - res["rough"]["rough_severity"], floor),
         "dark_circle": _clamp(100 - (100 - sides[0]) - (100 - sides[1]), floor),
         "wrinkle": _clamp(100 - float(np.mean([res[k]["wrinkle_score"] for k in searched])), floor)}
    oily = res["score_info"]["oily_intensity_score"] if floor > 0 else res["score_info_unclamped"]["oily_intensity_score"]
    total = ((s["wrinkle"] + s["pores"] + s["blackhead"] + s["acne"] + s["melanin"]) * 1.2
             + (s["water"] + oily + s["rough"]) * 0.5 + s["sensitivity"] + s["dark_circle"]) / 10
    s["total"] = _clamp(total, total_floor)
    s["skin_type"] = min(max(100 - (s["water"] + oily) / 2, 0), 100)
    return s


@pytest.mark.parametrize("key,floor,total_floor", [("score_info", 30.0, 70.0), ("score_info_unclamped", -1e9, -1e9)])
def test_pro_score_info_recomputes_from_the_response(pro: dict[str, Any], key: str, floor: float,
                                                     total_floor: float) -> None:
    res = pro["result"]
    got, want = res[key], recomputed_scores(res, floor, total_floor)
    for name in ("pores", "blackhead", "acne", "water", "sensitivity", "melanin", "rough", "dark_circle", "wrinkle"):
        assert got[f"{name}_score"] == pytest.approx(want[name], abs=0.02), name
    assert got["total_score"] == pytest.approx(want["total"], abs=0.05)
    assert got["skin_type_score"] == pytest.approx(want["skin_type"], abs=0.02)


def _all_points(res: dict[str, Any]) -> Iterator[tuple[str, float, float]]:
    for kind in ("acne", "acne_pustule", "acne_nodule", "acne_mark", "closed_comedones", "mole", "brown_spot"):
        for r in res[kind]["rectangle"]:
            yield kind, r["left"], r["top"]
            yield kind, r["left"] + r["width"], r["top"] + r["height"]
        for poly in res[kind]["polygon"]:
            yield from ((kind, p["x"], p["y"]) for p in poly)
    for key in ("melanin_mark", "sensitivity_mark"):
        for poly in res[key]["polygon"]:
            yield from ((key, p["x"], p["y"]) for p in poly)
    for group in ("wrinkle_mark", "cheekbone_mark", "dark_circle_outline"):
        for name, pts in res[group].items():
            yield from ((name, p["x"], p["y"]) for p in pts)
    for key, info in res.items():
        if key.endswith("_wrinkle_info"):
            for item in next((v for k, v in info.items() if k.endswith("_wrinkle_list")), []):
                yield from ((key, p["x"], p["y"]) for p in item["wrinkle_coord"])


def test_pro_geometry_lies_inside_the_face(pro: dict[str, Any]) -> None:
    res = pro["result"]
    fr = res["image_quality"]["face_rect"]
    x0, y0 = fr["left"] - FACE_MARGIN_PX, fr["top"] - FACE_MARGIN_PX
    x1, y1 = fr["left"] + fr["width"] + FACE_MARGIN_PX, fr["top"] + fr["height"] + FACE_MARGIN_PX
    pts = list(_all_points(res))
    assert len(pts) > 50  # region outlines alone give more
    outside = [(n, x, y) for n, x, y in pts if not (x0 <= x <= x1 and y0 <= y <= y1)]
    assert not outside, outside[:5]


def test_pro_maps_decode_at_the_photo_size(pro: dict[str, Any]) -> None:
    h, w = portrait().shape[:2]
    maps = pro["result"]["face_maps"]
    for token in FRONT_MAPS:
        img = decode(maps[token])
        if token == "texture_enhanced_bw":
            rect = pro["result"]["enhanced_bw_info"]["enhanced_bw_rect"]
            assert img.shape[:2] == (rect["height"], rect["width"])
        else:
            assert img.shape[:2] == (h, w), token
            raw = base64.b64decode(maps[token])
            want_png = token not in ("red_area", "brown_area")
            assert raw.startswith(b"\x89PNG") == want_png, token
            if want_png and token not in ("water_area", "rough_area"):
                assert img.shape[2] == 4, token  # transparent overlays
    side = side_view().shape[:2]
    for token in ("left_roi_outline_map", "right_roi_outline_map"):
        assert decode(maps[token]).shape[:2] == side


def seed(server: Server, image: bytes) -> dict[str, Any]:
    r = httpx.post(server.base_url + "/face/effect/skin_analyze", headers={"ailabapi-api-key": KEY},
                   files={"image": ("p.jpg", image, "image/jpeg")}, data={"face_field": "all"}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()["result"]["face_list"][0]


def test_seed_endpoint_and_the_three_tiers_agree_on_counts(server: Server, photo: bytes, pro: dict[str, Any]) -> None:
    face = seed(server, photo)
    basic = call(server, "basic", {"image": photo})["result"]
    adv = call(server, "advanced", {"image": photo})["result"]
    res = pro["result"]
    asm = face["acnespotmole"]
    pro_acne = sum(res[k]["count"] for k in ("acne", "acne_pustule", "acne_nodule", "acne_mark", "closed_comedones"))
    assert pro_acne == asm["acne_num"]
    assert res["brown_spot"]["count"] == len(adv["skin_spot"]["rectangle"]) == asm["speckle_num"]
    assert res["mole"]["count"] == len(adv["mole"]["rectangle"]) == asm["mole_num"]
    assert basic["mole"]["value"] == int(asm["mole_num"] > 0)
    assert basic["skin_spot"]["value"] == int(asm["speckle_num"] > 0)
    assert res["blackhead_count"] == face["blackheadpore"]["blackhead_num"]
    assert basic["blackhead"]["value"] == int(face["blackheadpore"]["blackhead_num"] > 0)
    assert sum(res["wrinkle_count"].values()) <= face["wrinkle"]["wrinkle_num"]  # cheeks are not searched
    assert sum(res["enlarged_pore_count"].values()) <= face["blackheadpore"]["pore_num"]
    for key in ("forehead_wrinkle", "crows_feet", "eye_finelines", "glabella_wrinkle", "nasolabial_fold", "eye_pouch"):
        assert basic[key]["value"] == adv[key]["value"] == res[key]["value"], key
    assert basic["skin_type"]["skin_type"] == adv["skin_type"]["skin_type"] == res["skin_type"]["skin_type"]


def _plant_moles(img: np.ndarray, sites: list[tuple[int, int]], radius_px: float) -> np.ndarray:
    out = img.astype(np.float32)
    for x, y in sites:
        mask = np.zeros(img.shape[:2], np.float32)
        cv2.circle(mask, (x, y), int(round(radius_px)), 1.0, -1, cv2.LINE_AA)
        mask = cv2.GaussianBlur(mask, (0, 0), radius_px * 0.25)[..., None]
        out = out * (1 - mask) + np.array([40, 50, 70], np.float32) * mask
    return out.astype(np.uint8)


# Dark-brown discs of ~3 mm on the cheeks and forehead of the 2x astronaut (original px).
PLANT_SITES = [(508, 251), (400, 255), (455, 140)]
PLANT_RADIUS_PX = 2.1
PLANT_MATCH_PX = 6  # a lesion centred this close to a planted disc is that disc (the sites are > 100 px apart)
SAME_PLACE_PX = 1.5  # the vendor's rectangles round a box outward to whole px: its centre moves by <= 1 px
# docs/ailab/README.md: seed lesion (list, acne type) -> Advanced key (None: not an Advanced key) and Pro key
KIND_OF_SEED = {("acne", 0): ("closed_comedones", "closed_comedones"), ("acne", 1): (None, "acne_mark"),
                ("acne", 2): ("acne", "acne"), ("acne", 3): ("acne", "acne_nodule"),
                ("speckle", None): ("skin_spot", "brown_spot"), ("mole", None): ("mole", "mole")}


def _centre(box: dict[str, Any]) -> tuple[float, float]:
    if "right" in box:
        return (box["left"] + box["right"]) / 2, (box["top"] + box["bottom"]) / 2
    return box["left"] + box["width"] / 2, box["top"] + box["height"] / 2


def test_every_lesion_shows_at_the_same_place_in_every_format(server: Server) -> None:
    """Every lesion the seed endpoint reports on a portrait with planted moles (planted or the portrait's
    own) is in Advanced and Pro under its documented key, at the same place.

    Not every planted disc need be found: which ones the lesion model (trained on real faces, and being
    retrained) detects varies with the model and with the other discs planted (measured scores 0.1-0.75,
    several sites not at all). Recall is eval_real's business; this test needs one planted disc found, so
    that it never passes on an empty list, and then requires each found lesion in every format."""
    image = jpeg(_plant_moles(portrait(), PLANT_SITES, PLANT_RADIUS_PX), 95)
    asm = seed(server, image)["acnespotmole"]
    lesions = [((fam, b.get("type") if fam == "acne" else None), _centre(b))
               for fam in ("acne", "speckle", "mole") for b in asm[f"{fam}_list"]]
    planted = [site for site in PLANT_SITES
               if any(np.hypot(c[0] - site[0], c[1] - site[1]) <= PLANT_MATCH_PX for _, c in lesions)]
    assert planted, "the seed endpoint found none of the planted spots"
    adv = call(server, "advanced", {"image": image})["result"]
    res = call(server, "pro", {"image": image})["result"]
    for kind, (cx, cy) in lesions:
        for result, key in zip((adv, res), KIND_OF_SEED[kind], strict=True):
            if key is None:
                continue
            centres = [_centre(r) for r in result[key]["rectangle"]]
            assert any(abs(x - cx) <= SAME_PLACE_PX and abs(y - cy) <= SAME_PLACE_PX for x, y in centres), \
                (kind, key, cx, cy, centres)


LESION_OBJECTS = ("mole", "brown_spot", "acne", "acne_pustule", "acne_nodule", "acne_mark", "closed_comedones")


def test_pro_lesion_lists_are_parallel(server: Server) -> None:
    """The contract's `<L>`: rectangle, confidence and polygon are parallel lists, `count` long, in the
    result and in each side result (on the portrait with planted moles, so that some are not empty)."""
    image = jpeg(_plant_moles(portrait(), PLANT_SITES, PLANT_RADIUS_PX), 95)
    r = call(server, "pro", {"image": image, "leftSideImage": image, "rightSideImage": image,
                             "returnSideResults": "jawline_info"})
    objects = {k: r["result"][k] for k in LESION_OBJECTS}
    for side in ("left", "right"):
        result = r[f"{side}_side_result"]
        objects.update({f"{side}.{k}": v for k, v in result[f"{side}_acne_info"].items() if k != "score"})
        objects.update({f"{side}.{k}": v for k, v in result[f"{side}_melanin_info"].items()})
    assert len(objects) == len(LESION_OBJECTS) + 2 * len(LESION_OBJECTS)
    for name, obj in objects.items():
        assert len(obj["rectangle"]) == len(obj["confidence"]) == len(obj["polygon"]) == obj["count"], name
    assert sum(obj["count"] for obj in objects.values()) > 0


def _row_counts(db: Path) -> dict[str, int]:
    """Rows per table of the diary's SQLite file, read through a connection of its own."""
    with closing(sqlite3.connect(db)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def _cache_lookups(server: Server) -> dict[str, float]:
    """skin_kiosk_cache_total per outcome (hit / miss), from /metrics."""
    out = {"hit": 0.0, "miss": 0.0}
    for line in httpx.get(server.base_url + "/metrics").text.splitlines():
        if line.startswith("skin_kiosk_cache_total{"):
            out[line.split('outcome="')[1].split('"')[0]] = float(line.split()[-1])
    return out


def test_nothing_is_stored_and_forget_clears_the_cache(tmp_path: Path, photo: bytes) -> None:
    """On a kiosk app with a real diary (SQLite file) and a live source: the vendor tiers add no diary
    row and no last scan, and "delete my data" empties the result cache of their answers too."""
    from edge.diary.store import DiaryStore

    db = tmp_path / "diary.sqlite3"
    diary = DiaryStore(db, device_secret=b"k" * 32)
    app = create_app(api_settings(api_keys=[KEY], workers=1, rate_limit_per_minute=RATE_LIMIT_PER_MINUTE),
                     live=ReplayLive(DEMO_PHOTO), diary=diary)
    try:
        with running(app) as srv:
            before = _row_counts(db)
            assert before, "the diary has no tables"
            requests = [("basic", {"image": photo}), ("advanced", {"image": photo, "returnMaps": "red_area"}),
                        ("pro", {"image": photo, "leftSideImage": jpeg(side_view()), "returnMaps": "brown_area"})]
            for tier, params in requests:
                assert call(srv, tier, params)["error_code"] == 0
            assert _row_counts(db) == before
            assert app.state.api.last_scan is None
            assert httpx.get(srv.base_url + "/api/v1/kiosk/last").status_code == 404

            first = _cache_lookups(srv)
            for tier, params in requests:  # identical again: answered from the cache
                call(srv, tier, params)
            again = _cache_lookups(srv)
            assert (again["hit"] - first["hit"], again["miss"] - first["miss"]) == (3, 0)
            assert httpx.post(srv.base_url + "/api/v1/kiosk/forget").status_code == 200
            for tier, params in requests:  # recomputed: the cache no longer holds them
                call(srv, tier, params)
            after = _cache_lookups(srv)
            assert (after["hit"] - again["hit"], after["miss"] - again["miss"]) == (0, 3)

            # the row count does see writes: a diary profile made through the API adds one
            assert httpx.post(srv.base_url + "/api/v1/diary/profiles", json={}).status_code == 201
            assert sum(_row_counts(db).values()) > sum(before.values())
    finally:
        diary.close()


def test_identical_request_is_answered_from_the_cache(server: Server, photo: bytes) -> None:
    first = call(server, "advanced", {"image": photo, "returnRectConfidence": 1})
    second = call(server, "advanced", {"image": photo, "returnRectConfidence": 1})
    assert first["result"] == second["result"] and first["request_id"] != second["request_id"]
    text = httpx.get(server.base_url + "/metrics").text
    hits = [line for line in text.splitlines() if line.startswith("skin_kiosk_cache") and 'outcome="hit"' in line]
    assert hits and float(hits[0].split()[-1]) >= 1


# --- malformed bodies: the contract's 400, never a 500 ---------------------------------------------
def _part(headers: str, body: bytes) -> bytes:
    return f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + body + b"\r\n"


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
MALFORMED = {
    "no_boundary": {"content": _part('Content-Disposition: form-data; name="image"; filename="a.jpg"', b"x"),
                    "headers": {"Content-Type": "multipart/form-data"}},
    "garbage_body": {"content": b"this is not a multipart body", "headers": MULTIPART},
    "part_without_name": {"content": _part('Content-Disposition: form-data; filename="a.jpg"', b"x")
                          + f"--{BOUNDARY}--\r\n".encode(), "headers": MULTIPART},
    "too_many_files": {"files": [(name, ("a.jpg", b"x", "image/jpeg"))
                                 for name in ("image", "left_side_image", "right_side_image", "extra")]},
    "too_many_fields": {"data": {f"field{i}": "0" for i in range(40)}, "files": {"image": ("a.jpg", b"x")}},
    "oversized_text_field": {"data": {"return_maps": "red_area," * 2000}, "files": {"image": ("a.jpg", b"x")}},
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_multipart_is_a_400(server: Server, case: str, caplog: pytest.LogCaptureFixture) -> None:
    r = raw(server, "pro", **MALFORMED[case])
    assert contract_error(r) == (400, "ERROR_INVALID_PARAMETER_FORMAT"), r.text
    assert r.json()["error_detail"]["message"].startswith("malformed form body: ")
    assert not [rec for rec in caplog.records if rec.exc_info], "a traceback was logged"


def test_a_streamed_body_over_the_tier_limit_is_refused(server: Server, photo: bytes) -> None:
    """A chunked upload (no content-length) is capped while it streams, as a declared one is: the photo
    itself is within Basic's 2 MB, the body around it is not."""
    padding = 3 * 1024 * 1024
    assert len(photo) < 2 * 1024 * 1024 < padding
    head = _part('Content-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg', photo)
    head += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="padding"; filename="p.bin"\r\n\r\n'.encode()

    def body() -> Iterator[bytes]:
        yield head
        chunk = bytes(64 * 1024)
        for _ in range(padding // len(chunk)):
            yield chunk
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    r = raw(server, "basic", content=body(), headers=MULTIPART)
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert contract_error(r) == (413, "FILE_SIZE_EXCEEDS_LIMIT"), r.text
    assert "basic accepts" in r.json()["error_detail"]["message"]


# --- load: 429 and 503 say when to come back ---------------------------------------------------------
def test_rate_limit_is_429_with_retry_after(photo: bytes) -> None:
    rate = 2
    with running(create_app(api_settings(api_keys=[KEY], workers=1, rate_limit_per_minute=rate))) as srv:
        for _ in range(rate):  # counted (authenticated), refused for the missing image
            assert contract_error(raw(srv, "basic", data={"face_quality_control": "0"})) == (400, "MISSING_PARAMETERS")
        limited = raw(srv, "basic", files={"image": ("a.jpg", photo, "image/jpeg")})
        assert contract_error(limited) == (429, "EXCEEDING_LIMITS")
        assert int(limited.headers["Retry-After"]) >= 1
        err = sdk_error(srv, "basic", {"image": photo})
        assert (err.detail.status_code, err.detail.code) == (429, "EXCEEDING_LIMITS")


def test_busy_is_503_with_retry_after(photo: bytes) -> None:
    GatedEngine.gate.clear()
    app = create_app(api_settings(api_keys=[KEY], workers=1, queue_size=0, cache_size=0), engine_factory=GatedEngine)
    pool = app.state.api.pool
    with running(app) as srv:
        held: list[httpx.Response] = []
        holder = threading.Thread(target=lambda: held.append(raw(srv, "advanced", files={"image": ("a.jpg", photo)})))
        holder.start()
        try:
            deadline = time.monotonic() + 10
            while pool.running != 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert pool.running == 1 and pool.saturated
            busy = raw(srv, "pro", files={"image": ("a.jpg", photo)})
            assert contract_error(busy) == (503, "ERROR_INSUFFICIENT_RESOURCES")
            assert busy.headers["Retry-After"] == "1"
        finally:
            GatedEngine.gate.set()
            holder.join(30)
        assert [r.status_code for r in held] == [200]


# --- the result cache ----------------------------------------------------------------------------------
def test_cache_key_tells_image_and_side_image_bytes_apart(server: Server, photo: bytes) -> None:
    """The same bytes split differently between the photo and a side photo are another request. A JPEG
    decoder stops at the end of the first image, so `side + blank` reads as the side photo and
    `photo + side` as the photo: the second request's side photo is the blank one (no face, code 4)."""
    side, blank = jpeg(side_view()), jpeg(np.full((480, 640, 3), 128, np.uint8))
    options = {"returnSideResults": "jawline_info"}
    first = call(server, "pro", {"image": photo, "leftSideImage": side + blank, **options})
    assert first["left_side_result"]["left_jawline_info"] == {"left_jawline_quality": 2}  # a face, too frontal
    second = call(server, "pro", {"image": photo + side, "leftSideImage": blank, **options})
    assert second["left_side_result"]["left_jawline_info"] == {"left_jawline_quality": 4}  # no face


def test_photos_are_decoded_on_a_worker_and_not_at_all_on_a_cache_hit(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache is looked up by the bytes; decoding (the photo and each side photo) is worker work that a
    hit skips. A spy around the real decoder records the thread of each call."""
    from edge.api.routers import ailab

    threads: list[str] = []
    real_decode = ailab.decode_image

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(ailab, "decode_image", spy)
    params = {"image": jpeg(portrait(), 90), "rightSideImage": jpeg(side_view(), 90)}  # not sent before: a miss
    first = call(server, "pro", params)
    assert len(threads) == 2 and all(t.startswith("inference") for t in threads), threads
    assert call(server, "pro", params)["result"] == first["result"]
    assert len(threads) == 2, "a cache hit decoded the photos again"


def _stage_counts(server: Server) -> dict[str, float]:
    """skin_kiosk_stage_seconds_count per stage label, from /metrics."""
    counts = {}
    for line in httpx.get(server.base_url + "/metrics").text.splitlines():
        if line.startswith("skin_kiosk_stage_seconds_count{"):
            counts[line.split('stage="')[1].split('"')[0]] = float(line.split()[-1])
    return counts


def test_side_photos_run_only_what_their_results_use(server: Server) -> None:
    """A side photo feeds the jawline (mesh and pose), its outline map (the face oval) and its lesion
    lists: face stages and acnespotmole only, none of the other analyzers or the pixel maps."""
    side = jpeg(cv2.flip(side_view(), 1))  # bytes not sent before: a miss
    r = call(server, "pro", {"image": jpeg(portrait(), 88), "leftSideImage": side,
                             "returnSideResults": "jawline_info", "returnMaps": "left_roi_outline_map"})
    assert "left_acne_info" in r["left_side_result"] and "left_roi_outline_map" in r["result"]["face_maps"]
    side_stages = {s for s in _stage_counts(server) if s.startswith("side_")}
    assert side_stages == {"side_detect", "side_mesh", "side_regions", "side_acnespotmole"}


# --- face_rectangle: eyebrows to chin ---------------------------------------------------------------
FOREHEAD_MIN_SHARE = 0.1  # the forehead is well over a tenth of a face's height (the contract's example: 28 %)
CHIN_TOLERANCE_PX = 2  # both boxes end at the mesh's chin, up to rounding


def test_face_rectangle_runs_from_the_eyebrows_to_the_chin(server: Server, photo: bytes, pro: dict[str, Any]) -> None:
    """The contract: `face_rectangle` is the face box without the forehead; Pro's `image_quality.face_rect`
    (the whole face oval) includes it, and the eyes lie inside the box."""
    oval = pro["result"]["image_quality"]["face_rect"]
    eyes = pro["result"]["dark_circle_mark"]
    for box in (pro["face_rectangle"], call(server, "basic", {"image": photo})["face_rectangle"]):
        assert box["top"] - oval["top"] >= FOREHEAD_MIN_SHARE * oval["height"], (box, oval)
        assert abs((box["top"] + box["height"]) - (oval["top"] + oval["height"])) <= CHIN_TOLERANCE_PX, (box, oval)
        for eye in eyes.values():
            assert box["top"] < eye["top"] and box["left"] <= eye["left"] <= box["left"] + box["width"], (box, eye)


def test_pro_schema_requires_the_unclamped_scores_beside_score_info(pro: dict[str, Any]) -> None:
    """Always sent with score_info (the honest twin of its clamped values): a response without it is invalid."""
    assert "score_info" in pro["result"] and "score_info_unclamped" in pro["result"]
    stripped = {**pro, "result": {k: v for k, v in pro["result"].items() if k != "score_info_unclamped"}}
    errors = list(jsonschema.Draft202012Validator(SCHEMAS["pro"]).iter_errors(stripped))
    assert [e.message for e in errors] == ["'score_info_unclamped' is a required property"]
