"""eyesattr: planted under-eye darkening of known colour gets its type and a polygon under each eye,
planted eye-bag shading gets its type, the rules on truth-known colour vectors and profiles, and the
seed's shape (empty lists when there is no finding)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.analysis import eyesattr as ea
from edge.analysis import reference as ref
from tests.unit.lines_eyes_scenes import ev

KEYS = ["dark_circle_left_type", "dark_circle_right_type", "dark_circle_left", "dark_circle_right",
        "eye_bags_left", "eye_bags_right", "eye_bags_left_type", "eye_bags_right_type"]


@pytest.fixture(scope="module")
def unplanted(engine, portrait):
    return engine.analyze(portrait, ["eyesattr"])[0]


def _eye_box(ctx, side: str) -> tuple[float, float, float, float]:
    eye = ctx.crop_to_original(ctx.regions.polygon(f"eye_{side}"))
    return eye[:, 0].min(), eye[:, 0].max(), eye[:, 1].mean(), eye[:, 1].max()


def _assert_under_eye(poly: list[dict], ctx, side: str) -> None:
    """A polygon of >= 3 points whose centre lies below the eye and within its width (± half an eye)."""
    assert len(poly) >= 3
    pts = np.array([[p["x"], p["y"]] for p in poly])
    x0, x1, y_mid, y_low = _eye_box(ctx, side)
    cx, cy = pts.mean(0)
    half = (x1 - x0) / 2
    assert x0 - half <= cx <= x1 + half
    assert cy > y_mid
    assert cy < y_low + 3 * (x1 - x0)


def test_shape_matches_the_contract(unplanted, engine, portrait):
    attrs = unplanted["eyesattr"]
    assert list(attrs) == KEYS
    for key, value in attrs.items():
        assert isinstance(value, list), key
    for side in ("left", "right"):
        t = attrs[f"dark_circle_{side}_type"]
        assert (t == []) == (attrs[f"dark_circle_{side}"] == [])  # no finding: both empty
        assert t == [] or (len(t) == 1 and t[0] in (0, 1, 2))
        b = attrs[f"eye_bags_{side}_type"]
        assert (b == []) == (attrs[f"eye_bags_{side}"] == [])
        assert b == [] or (len(b) == 1 and b[0] in (1, 2, 3))
    assert "extended" not in unplanted
    ext = engine.analyze(portrait, ["eyesattr"], extended=True)[0]["extended"]["eyesattr"]
    assert set(ext) == {"dark_circle_left", "dark_circle_right", "eye_bags_left", "eye_bags_right"}


def test_unplanted_portrait_has_no_dark_circle_or_bag(unplanted):
    attrs = unplanted["eyesattr"]
    assert attrs["dark_circle_left_type"] == attrs["dark_circle_right_type"] == []
    assert attrs["eye_bags_left_type"] == attrs["eye_bags_right_type"] == []


@pytest.mark.parametrize("kind", list(ev.DARKENING_OD))
def test_planted_dark_circle_type_and_polygons(engine, portrait, portrait_ctx, kind):
    attrs = engine.analyze(ev.plant_dark_circles(portrait, portrait_ctx, kind), ["eyesattr"])[0]["eyesattr"]
    want = ev.DARK_CIRCLE_TYPE[kind]
    assert attrs["dark_circle_left_type"] == [want]
    assert attrs["dark_circle_right_type"] == [want]
    for side in ("left", "right"):
        _assert_under_eye(attrs[f"dark_circle_{side}"], portrait_ctx, side)
    # Left is the person's left: at larger x in the unmirrored photo.
    lx = np.mean([p["x"] for p in attrs["dark_circle_left"]])
    rx = np.mean([p["x"] for p in attrs["dark_circle_right"]])
    assert lx > rx


def test_slight_darkening_is_not_a_dark_circle(engine, portrait, portrait_ctx, monkeypatch):
    monkeypatch.setitem(ev.DARKENING_OD, "shadow", np.array([1.0, 1.0, 1.0]) * 0.02)
    attrs = engine.analyze(ev.plant_dark_circles(portrait, portrait_ctx, "shadow"), ["eyesattr"])[0]["eyesattr"]
    assert attrs["dark_circle_left_type"] == attrs["dark_circle_right_type"] == []
    assert attrs["dark_circle_left"] == attrs["dark_circle_right"] == []


@pytest.mark.parametrize("scale", [0.5, 1.5])
def test_dark_circle_type_does_not_depend_on_strength(engine, portrait, portrait_ctx, monkeypatch, scale):
    for kind, od in list(ev.DARKENING_OD.items()):
        monkeypatch.setitem(ev.DARKENING_OD, kind, od * scale)
        attrs = engine.analyze(ev.plant_dark_circles(portrait, portrait_ctx, kind), ["eyesattr"])[0]["eyesattr"]
        assert attrs["dark_circle_left_type"] == attrs["dark_circle_right_type"] == [ev.DARK_CIRCLE_TYPE[kind]]


def _shares(od_vector: np.ndarray) -> tuple[float, float]:
    mel, hem, sh = ref.PIGMENT_MATRIX @ od_vector
    mean_od = mel * np.mean(ref.MELANIN_OD) + hem * np.mean(ref.HEMOGLOBIN_OD) + sh
    return mel / mean_od, hem / mean_od


@pytest.mark.parametrize(("od", "want"), [
    (np.asarray(ref.MELANIN_OD), ea.PIGMENT),  # brown
    (np.array([1.0, 1.0, 1.0]), ea.SHADOW),  # neutral
    (np.array([0.7, 0.75, 0.3]), ea.VASCULAR),  # bluish-purple
    (np.array([0.8, 0.6, 0.3]), ea.VASCULAR),  # bluish
    (np.asarray(ref.HEMOGLOBIN_OD), ea.VASCULAR),  # blood red
    (np.array([1.0, 1.0, 1.0]) + 0.2 * np.asarray(ref.MELANIN_OD), ea.SHADOW),  # mostly shadow, a little brown
])
def test_dark_circle_rule_on_colour_vectors(od, want):
    assert ea.classify_dark_circle(*_shares(od)) == want


def test_dark_circle_rule_boundaries():
    assert ea.classify_dark_circle(ea.PIGMENT_MELANIN_SHARE, 0.0) == ea.PIGMENT
    assert ea.classify_dark_circle(ea.PIGMENT_MELANIN_SHARE - 0.01, 0.0) == ea.SHADOW
    assert ea.classify_dark_circle(-ea.BLUISH_MELANIN_SHARE, 0.0) == ea.VASCULAR
    assert ea.classify_dark_circle(-ea.BLUISH_MELANIN_SHARE + 0.01, 0.0) == ea.SHADOW
    assert ea.classify_dark_circle(0.0, ea.VASCULAR_HEMOGLOBIN_SHARE) == ea.VASCULAR
    assert ea.classify_dark_circle(1.0, 0.8) == ea.PIGMENT  # both: the larger share decides
    assert ea.classify_dark_circle(0.7, 1.2) == ea.VASCULAR


@pytest.mark.parametrize("kind", list(ev.BAG_KINDS))
def test_planted_eye_bags_type_and_polygons(engine, portrait, portrait_ctx, kind):
    attrs = engine.analyze(ev.plant_eye_bags(portrait, portrait_ctx, kind), ["eyesattr"])[0]["eyesattr"]
    want = ev.BAG_KINDS[kind]
    assert attrs["eye_bags_left_type"] == [want]
    assert attrs["eye_bags_right_type"] == [want]
    for side in ("left", "right"):
        _assert_under_eye(attrs[f"eye_bags_{side}"], portrait_ctx, side)


def test_find_crease_on_profiles():
    flat = np.full(24, 0.3)
    assert ea.find_crease(flat, 3)[0] == -1
    crease = flat.copy()
    crease[10] += 0.08
    assert ea.find_crease(crease, 3)[0] == 10
    faint = flat.copy()
    faint[10] += 0.02
    assert ea.find_crease(faint, 3)[0] == -1
    band = flat.copy()
    band[6:20] += 0.1  # a broad dark band (a dark circle), not a groove
    assert ea.find_crease(band, 3)[0] == -1
    ramp = np.linspace(0.2, 0.5, 24)  # steadily darker downwards: no crease
    assert ea.find_crease(ramp, 3)[0] == -1


def test_eye_bag_rule():
    assert ea.classify_eye_bag(ea.BAG_MIN_COLUMNS, 0) == ea.FAT
    assert ea.classify_eye_bag(ea.BAG_MIN_COLUMNS - 1, 0) is None
    assert ea.classify_eye_bag(0, ea.TROUGH_MIN_COLUMNS) == ea.TEAR_TROUGH
    assert ea.classify_eye_bag(ea.BAG_MIN_COLUMNS, ea.TROUGH_MIN_COLUMNS) == ea.MIXED


def _plant_one_side(bgr: np.ndarray, ctx, kind: str, persons_left: bool) -> np.ndarray:
    """DARKENING_OD[kind] under ONE eye, chosen by position, not by region name: the person's left eye is
    the under-eye region at larger x in the unmirrored photo (so a left/right swap anywhere shows)."""
    import cv2

    polys = [ctx.crop_to_original(ctx.regions.polygon(f"under_eye_{s}")) for s in ("left", "right")]
    polys.sort(key=lambda p: p[:, 0].mean())
    poly = polys[1] if persons_left else polys[0]
    h, w = bgr.shape[:2]
    soft = np.zeros((h, w), np.float32)
    cv2.fillPoly(soft, [np.round(poly).astype(np.int32)], 1.0)
    soft = cv2.GaussianBlur(soft, (0, 0), max(0.5 / ctx.mm_per_px / ctx.crop_px_per_image_px, 1.0))
    factor = np.exp(-soft[..., None] * ev.DARKENING_OD[kind][::-1].astype(np.float32))
    return np.clip(bgr.astype(np.float32) * factor + 0.5, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("persons_left", [True, False], ids=["persons_left", "persons_right"])
@pytest.mark.parametrize("kind", list(ev.DARKENING_OD))
def test_dark_circle_under_one_eye_is_reported_on_that_side(engine, portrait, portrait_ctx, kind, persons_left):
    face = engine.analyze(_plant_one_side(portrait, portrait_ctx, kind, persons_left), ["eyesattr"])[0]
    attrs, loc = face["eyesattr"], face["location"]
    want = ev.DARK_CIRCLE_TYPE[kind]
    found, clear = ("left", "right") if persons_left else ("right", "left")
    assert attrs[f"dark_circle_{found}_type"] == [want]
    assert attrs[f"dark_circle_{clear}_type"] == [] and attrs[f"dark_circle_{clear}"] == []
    centre_x = loc["left"] + loc["width"] / 2
    mean_x = np.mean([p["x"] for p in attrs[f"dark_circle_{found}"]])
    assert (mean_x > centre_x) == persons_left  # the person's left eye: larger x in the unmirrored photo
