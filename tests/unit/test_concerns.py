"""Concern scores: each definition on hand-computed measurements, the copied analyzer thresholds against
their source, and the scores on pictures with known, planted findings (zero where nothing is planted).

Acne and spots are checked on real labelled faces in tests/integration/test_concerns_real.py: planted
lesions say nothing about the trained lesion model (see tests/unit/test_acnespotmole.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.analysis import color as color_mod
from edge.analysis import eyesattr as ea
from edge.analysis import maps
from edge.analysis import skinquality as sq
from edge.analysis import smooth as sm
from edge.analysis.color_science import add_pigment
from edge.formats import ailab_measures as am
from edge.shop import concerns as cs
from edge.shop.vocabulary import CONCERNS
from tests.tone_helpers import face_context, gaussian_blob, run_field, with_crop
from tests.unit.lines_eyes_scenes import ev

ALL_FIELDS = list(cs.CONCERN_FIELDS)
PATCH_OD = 0.2
PLANTED_PATCHES_MIN_RISE = 15.0  # score points: measured +26 for the eight patches (4.5 % of the skin)
assert color_mod.BROWN_PATCH_OD < PATCH_OD < maps.HAIR_MELANIN_MARGIN


def test_copied_thresholds_match_their_source():
    assert cs.DARK_CIRCLE_MIN_OD == ea.DARK_CIRCLE_MIN_OD
    assert am.DARK_CIRCLE_SEVERITY_OD[-1] == cs.DARK_CIRCLE_FULL_OD
    assert cs.BAG_COLUMNS == ea.BAG_COLUMNS
    assert (cs.DRY_SHINE, cs.DRY_TEXTURE, cs.OILY_SHINE, cs.TOLERANT_SPREAD) == (
        sq.DRY_SHINE, sq.DRY_TEXTURE, sq.OILY_SHINE, sq.TOLERANT_SPREAD)
    assert cs.ROUGH_FULL == am.ROUGH_FULL_PCT == 2 * sm.SMOOTH_VISIBLE
    assert cs.OILY_FULL == am.OILY_SEVERE_SHINE
    assert cs.WRINKLE_REGION_FULL == am.SEVERE_WRINKLE_MM_OD and len(
        [r for r in am.WRINKLE_REGIONS if r in am.ZONE_OF_REGION]) == cs.WRINKLE_REGIONS
    assert cs.DRYOIL_ZONES == sq.DRYOIL_ZONES
    assert am.BLACKHEAD_BANDS[-1] == cs.BLACKHEADS_FULL


def test_linear_has_no_floor_and_no_stretch():
    assert cs.linear(0.0, 0.0, 7.0) == 0.0
    assert cs.linear(3.5, 0.0, 7.0) == 50.0
    assert cs.linear(70.0, 0.0, 7.0) == 100.0
    assert cs.linear(0.06, 0.06, 0.15) == 0.0 and cs.linear(0.105, 0.06, 0.15) == 50.0


def _lesions(*items: tuple[str, float]) -> dict:
    return {"acnespotmole": {"acne_list": [], "mole_num": 1},
            "extended": {"acnespotmole": {"items": [{"family": f, "type": 0, "score": s, "diameter_mm": 2.0}
                                                    for f, s in items]}}}


def test_lesion_scores_are_expected_counts_on_the_labelled_scale():
    face = _lesions(("acne", 0.5), ("acne", 0.9), ("acne_mark", 0.4), ("speckle", 0.6), ("mole", 0.9))
    scores = cs.concern_scores(face)
    assert scores["acne"].score == round(100 * 1.4 / cs.ACNE_FULL, 1)
    assert scores["spots"].score == round(100 * 1.0 / cs.SPOTS_FULL, 1)  # acne marks count as spots
    assert scores["acne"].measure == "2 found (1.4 expected real)"
    assert cs.concern_scores(_lesions())["acne"].score == 0.0


def test_each_definition_on_known_measurements():
    face = {
        "blackheadpore": {"pore_num": 30, "blackhead_num": 0},
        "eyesattr": {"dark_circle_left_type": [1], "dark_circle_right_type": [], "eye_bags_left_type": [],
                     "eye_bags_right_type": [2]},
        "skinquality": {"skin_dryoil_check": ["2", "2", "0", "1", "1"], "skin_sensitive_check": ["2"]},
        "skin": {"color": 3},
        "extended": {
            "blackheadpore": {"pore_counts": {"forehead": 20, "cheek_left": 4, "cheek_right": 6}},
            "wrinkle": {"length_mm": [10.0, 20.0, 8.0], "depth_od": [0.1, 0.1, 0.05],
                        "zone": ["forehead", "forehead", "perioral"]},
            "eyesattr": {"dark_circle_left": {"mean_od": 0.105}, "dark_circle_right": {"mean_od": 0.2},
                         "eye_bags_left": {"bag_columns": 9, "trough_columns": 0},
                         "eye_bags_right": {"bag_columns": 0, "trough_columns": 3}},
            "skinquality": {"zones": {"forehead": {"shine": 0.10, "texture_pct": 1.0},
                                      "nose": {"shine": 0.15, "texture_pct": 1.0},
                                      "cheek_left": {"shine": 0.0, "texture_pct": 3.75},
                                      "cheek_right": {"shine": 0.01, "texture_pct": 5.0},
                                      "chin": {"shine": None, "texture_pct": None}},
                            "redness": {"spread": 0.55}},
            "color": {"brown_patch_share": cs.UNEVEN_FULL / 4},
        },
    }
    s = cs.concern_scores(face)
    assert (s["pores"].score, s["pores"].where) == (round(100 * 30 / cs.PORES_FULL, 1), "forehead")
    assert (s["blackheads"].score, s["blackheads"].where) == (0.0, "")
    # forehead 3.0 mm.OD -> 75; perioral 0.4 split into two regions of 0.2 -> 5 + 5; mean over 10 regions
    assert (s["wrinkles"].score, s["wrinkles"].where) == (8.5, "forehead")
    # only the left circle is found (the right's larger OD does not count): (0.105 - 0.06) / 0.09
    assert (s["dark_circles"].score, s["dark_circles"].where) == (50.0, "left eye")
    # only the right eye has a finding: a 3-column trough of 12
    assert (s["eye_bags"].score, s["eye_bags"].where) == (25.0, "right eye")
    # matte zones only: left cheek (3.75 - 1.5) / 4.5 = 50; the right cheek is not matte
    assert (s["dryness"].score, s["dryness"].where) == (10.0, "left cheek")
    # forehead (0.10 - 0.05) / 0.10 = 50, nose 100 -> mean over five zones 30
    assert (s["oiliness"].score, s["oiliness"].where) == (30.0, "T-zone")
    assert s["redness"].score == 50.0
    assert s["uneven_tone"].score == 25.0
    profile = cs.skin_profile(face)
    assert (profile.skin_type, profile.sensitivity, profile.tone) == ("combination", "2", "intermediate")


def test_not_analysed_is_none_not_zero():
    s = cs.concern_scores({"skin": {"color": 2}})
    assert all(v.score is None for v in s.values())
    assert cs.plain_scores(s) == {}
    # the seed keys without `extended` cannot be scored either (no measurements)
    assert cs.concern_scores({"eyesattr": {"dark_circle_left_type": [1]}})["dark_circles"].score is None


@pytest.mark.parametrize("dryoil,want", [
    (["2", "2", "2", "2", "1"], "oily"), (["2", "1", "1", "1", "1"], "combination"),
    (["1", "1", "2", "1", "1"], "combination"), (["1", "1", "0", "1", "1"], "dry"),
    (["1"] * 5, "normal"), (["1"] * 4, None), (None, None)])
def test_skin_type_rule(dryoil, want):
    assert cs.skin_type(dryoil) == want


# --- pictures with known findings ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def unplanted(engine, portrait):
    return cs.concern_scores(engine.analyze(portrait, ALL_FIELDS, extended=True)[0])


def test_unplanted_portrait_reads_zero_where_nothing_is_there(unplanted):
    # (Her freckles are real brown patches: uneven tone reads 0 on a flat face, below.)
    for name in ("dark_circles", "eye_bags", "blackheads"):
        assert unplanted[name].score == 0.0, unplanted[name]
    assert all(unplanted[c].score is not None for c in CONCERNS)


@pytest.mark.parametrize("kind", list(ev.DARKENING_OD))
def test_planted_dark_circles_score(engine, portrait, portrait_ctx, kind):
    face = engine.analyze(ev.plant_dark_circles(portrait, portrait_ctx, kind), ["eyesattr"], extended=True)[0]
    score = cs.dark_circles(face)
    assert score.score > 0 and score.where == "both eyes"
    od = max(face["extended"]["eyesattr"][f"dark_circle_{s}"]["mean_od"] for s in ("left", "right"))
    assert score.score == cs.linear(od, cs.DARK_CIRCLE_MIN_OD, cs.DARK_CIRCLE_FULL_OD)


@pytest.mark.parametrize("kind", list(ev.BAG_KINDS))
def test_planted_eye_bags_score(engine, portrait, portrait_ctx, kind):
    face = engine.analyze(ev.plant_eye_bags(portrait, portrait_ctx, kind), ["eyesattr"], extended=True)[0]
    score = cs.eye_bags(face)
    assert score.score > 0 and score.where == "both eyes"


def test_planted_wrinkles_raise_the_score(engine, portrait, portrait_ctx, unplanted):
    planted = ev.draw_wrinkles(portrait, ev.plan_wrinkles(portrait_ctx, np.random.default_rng(5)))
    score = cs.wrinkles(engine.analyze(planted, ["wrinkle"], extended=True)[0])
    assert score.score >= unplanted["wrinkles"].score + 5, (score, unplanted["wrinkles"])


@pytest.fixture(scope="module")
def tone_ctx(engine, astronaut_bgr):
    return face_context(engine, astronaut_bgr)


def _field_face(engine, ctx, *names: str) -> dict:
    face: dict = {"extended": {}}
    for name in names:
        part = run_field(engine, name, ctx, extended=True)
        face["extended"].update(part.pop("extended"))
        face.update(part)
    return face


def test_planted_shine_makes_the_forehead_oily(engine, tone_ctx):
    base = cs.oiliness(_field_face(engine, tone_ctx, "skinquality"))
    crop = tone_ctx.crop.astype(np.float64)
    clean = maps.zone(tone_ctx, "forehead") & maps.skin_pixels(with_crop(tone_ctx), engine.store)
    ys, xs = np.nonzero(clean)
    rng = np.random.default_rng(5)
    alpha = np.zeros(crop.shape[:2])
    for i in rng.choice(len(xs), 10, replace=False):  # ten ~3 mm glints, as test_skinquality
        alpha = np.maximum(alpha, 0.85 * gaussian_blob(crop.shape[:2], (xs[i], ys[i]), 5.0))
    shiny = (crop * (1 - alpha[..., None]) + 250.0 * alpha[..., None]).round().astype(np.uint8)
    got = cs.oiliness(_field_face(engine, with_crop(tone_ctx, shiny), "skinquality"))
    assert got.score > base.score and "forehead" in got.where


def test_red_cheeks_read_redness_and_an_even_face_none(engine, tone_ctx):
    from edge.analysis.color_science import lab_to_bgr_u8

    flat = np.broadcast_to(lab_to_bgr_u8(np.array([68.0, 11.0, 17.0])), tone_ctx.crop.shape).copy()
    even = _field_face(engine, with_crop(tone_ctx, flat), "skinquality", "color")
    assert cs.redness(even).score == 0.0 and cs.uneven_tone(even).score == 0.0
    central = maps.zones(tone_ctx, ("cheek_left", "cheek_right", "nose")).astype(np.float64)
    flushed = add_pigment(flat, hemoglobin=2 * sq.RED_DELTA * central)
    assert cs.redness(_field_face(engine, with_crop(tone_ctx, flushed), "skinquality")).score > 80


def test_planted_brown_patches_read_uneven_tone(engine, tone_ctx):
    """Eight 4 mm patches of +0.2 melanin OD (visibly browner, yet under the hair/mole margin of
    maps.skin_pixels, so they are skin) on the cheeks and forehead raise the score clearly. (Only their
    cores pass the threshold after the surround is subtracted: about a quarter of their area is counted,
    so the share is a conservative measure.)"""
    clean = maps.skin_pixels(tone_ctx, engine.store) & maps.zones(tone_ctx, color_mod.ITA_ZONES)
    inner = cv2.erode(clean.astype(np.uint8), np.ones((25, 25), np.uint8)) > 0  # away from the zone borders
    ys, xs = np.nonzero(inner)
    rng = np.random.default_rng(3)
    radius = 2.0 / tone_ctx.mm_per_px
    yy, xx = np.mgrid[0:clean.shape[0], 0:clean.shape[1]]
    melanin = np.zeros(clean.shape)
    for i in rng.choice(len(xs), 8, replace=False):
        r = np.hypot(xx - xs[i], yy - ys[i])
        melanin = np.maximum(melanin, PATCH_OD * np.clip(radius + 1 - r, 0, 1))  # a disk, 1 px soft edge
    patched = add_pigment(tone_ctx.crop, melanin=melanin)
    before = cs.uneven_tone(_field_face(engine, tone_ctx, "color"))
    after = cs.uneven_tone(_field_face(engine, with_crop(tone_ctx, patched), "color"))
    planted_share = float((melanin > PATCH_OD / 2).sum()) / float(clean.sum())
    assert after.score >= before.score + PLANTED_PATCHES_MIN_RISE, (before, after)
    assert float(after.measure.split("%")[0]) / 100 <= planted_share + 0.01  # never more than was planted
