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
from edge.analysis import wrinkle as wr
from edge.analysis.color_science import add_pigment
from edge.api.shop_state import load_concern_table
from edge.shop import concerns as cs
from edge.shop.vocabulary import CONCERNS
from tests.tone_helpers import face_context, gaussian_blob, run_field, with_crop
from tests.unit.lines_eyes_scenes import ev

ALL_FIELDS = list(cs.CONCERN_FIELDS)
# Hand-picked full scales for checking the definitions by hand arithmetic (the product's come from the
# committed table: FULL below).
HAND_SCALES = {"acne": 7.0, "spots": 10.0, "wrinkles": 4.0, "pores": 220.0, "blackheads": 151.0,
               "dark_circles": 0.15, "eye_bags": 12.0, "dryness": 6.0, "oiliness": 0.15, "redness": 1.0,
               "uneven_tone": 0.045}
FULL = load_concern_table().full


def score(name: str, face: dict) -> cs.ConcernScore:
    """One concern's score on the product's scales."""
    return cs.concern_score(name, face, FULL[name])
PATCH_OD = 0.2
PLANTED_PATCHES_MIN_RISE = 15.0  # score points: measured +20 for the eight patches (4.5 % of the skin) on scale 0.0576
assert color_mod.BROWN_PATCH_OD < PATCH_OD < maps.HAIR_MELANIN_MARGIN


def test_copied_thresholds_match_their_source():
    assert cs.DARK_CIRCLE_MIN_OD == ea.DARK_CIRCLE_MIN_OD
    assert cs.BAG_COLUMNS == ea.BAG_COLUMNS
    assert (cs.DRY_SHINE, cs.DRY_TEXTURE, cs.OILY_SHINE, cs.TOLERANT_SPREAD) == (
        sq.DRY_SHINE, sq.DRY_TEXTURE, sq.OILY_SHINE, sq.TOLERANT_SPREAD)
    assert cs.DRYOIL_ZONES == sq.DRYOIL_ZONES
    assert tuple(wr.ZONE_TYPES) == cs.WRINKLE_ZONES
    assert len(cs.WRINKLE_ZONES) - 1 + cs.PERIORAL_PARTS == 10  # the vendor tier's ten searched regions


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
    scores = cs.concern_scores(face, FULL)
    assert scores["acne"].score == cs.linear(1.4, 0.0, FULL["acne"])
    assert scores["spots"].score == cs.linear(1.0, 0.0, FULL["spots"])  # acne marks count as spots
    assert scores["acne"].measure == "2 found (1.4 expected real)"
    assert cs.concern_scores(_lesions(), FULL)["acne"].score == 0.0


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
            "color": {"brown_patch_share": HAND_SCALES["uneven_tone"] / 4},
        },
    }
    s = cs.concern_scores(face, HAND_SCALES)
    assert (s["pores"].score, s["pores"].where) == (round(100 * 30 / 220, 1), "forehead")
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
    s = cs.concern_scores({"skin": {"color": 2}}, FULL)
    assert all(v.score is None for v in s.values())
    assert cs.plain_scores(s) == {}
    # the seed keys without `extended` cannot be scored either (no measurements)
    assert cs.concern_scores({"eyesattr": {"dark_circle_left_type": [1]}}, FULL)["dark_circles"].score is None


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), "0.5", True])
def test_a_measurement_that_is_not_a_finite_number_is_not_measured(bad):
    """The API refuses such envelopes (edge/api/scored_face.py); the scores never turn one into a number."""
    face = {"extended": {"skinquality": {"redness": {"spread": bad}}, "color": {"brown_patch_share": bad}},
            "blackheadpore": {"pore_num": bad}}
    got = cs.concern_scores(face, FULL)
    assert (got["redness"].score, got["uneven_tone"].score, got["pores"].score) == (None, None, None)


@pytest.mark.parametrize("dryoil,want", [
    (["2", "2", "2", "2", "1"], "oily"), (["2", "1", "1", "1", "1"], "combination"),
    (["1", "1", "2", "1", "1"], "combination"), (["1", "1", "0", "1", "1"], "dry"),
    (["1"] * 5, "normal"), (["1"] * 4, None), (None, None)])
def test_skin_type_rule(dryoil, want):
    assert cs.skin_type(dryoil) == want


# --- pictures with known findings ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def unplanted(engine, portrait):
    return cs.concern_scores(engine.analyze(portrait, ALL_FIELDS, extended=True)[0], FULL)


def test_unplanted_portrait_reads_zero_where_nothing_is_there(unplanted):
    """The clean test portrait (the astronaut, upscaled): nothing planted. Where the analyzers find
    nothing the score is 0; where they report something real it is asserted as measured, with why."""
    # (Her freckles are real brown patches: uneven tone reads 0 on a flat face, below.)
    for name in ("dark_circles", "eye_bags", "blackheads", "dryness", "oiliness"):
        assert unplanted[name].score == 0.0, unplanted[name]
    # No zone is matte and rough (the forehead is the roughest, 1.77 %, but not matte: shine 0.043), and
    # none shines past the oily threshold (the forehead again, 0.043 of its skin < 0.05).
    assert (unplanted["dryness"].measure, unplanted["oiliness"].measure) == ("no dry zone", "no oily zone")
    # Wrinkles: she smiles, and her left nasolabial fold is a real line (8 mm at 0.055 OD, the only one
    # found): 8.2 mm x 0.0551 OD in one of the ten regions.
    assert (unplanted["wrinkles"].measure, unplanted["wrinkles"].where) == ("1 lines, 8 mm", "nasolabial (left)")
    assert unplanted["wrinkles"].score == round(100 * 8.2 * 0.0551 / FULL["wrinkles"] / 10, 1)
    # Pores: 16 "enlarged pores" are counted, 9 along the fringe of her hair on the forehead (hair tips read
    # as dark pits) and 7 on the cheeks beside the nose; far below the valid faces' median (80).
    assert (unplanted["pores"].measure, unplanted["pores"].where) == ("16 enlarged pores", "forehead")
    assert unplanted["pores"].score == cs.linear(16, 0.0, FULL["pores"])
    assert all(unplanted[c].score is not None for c in CONCERNS)


@pytest.mark.parametrize("kind", list(ev.DARKENING_OD))
def test_planted_dark_circles_score(engine, portrait, portrait_ctx, kind):
    face = engine.analyze(ev.plant_dark_circles(portrait, portrait_ctx, kind), ["eyesattr"], extended=True)[0]
    got = score("dark_circles", face)
    assert got.score > 0 and got.where == "both eyes"
    od = max(face["extended"]["eyesattr"][f"dark_circle_{s}"]["mean_od"] for s in ("left", "right"))
    assert got.score == cs.linear(od, cs.DARK_CIRCLE_MIN_OD, FULL["dark_circles"])


@pytest.mark.parametrize("kind", list(ev.BAG_KINDS))
def test_planted_eye_bags_score(engine, portrait, portrait_ctx, kind):
    face = engine.analyze(ev.plant_eye_bags(portrait, portrait_ctx, kind), ["eyesattr"], extended=True)[0]
    got = score("eye_bags", face)
    assert got.score > 0 and got.where == "both eyes"


def test_planted_wrinkles_raise_the_score(engine, portrait, portrait_ctx, unplanted):
    planted = ev.draw_wrinkles(portrait, ev.plan_wrinkles(portrait_ctx, np.random.default_rng(5)))
    got = score("wrinkles", engine.analyze(planted, ["wrinkle"], extended=True)[0])
    assert got.score >= unplanted["wrinkles"].score + 5, (got, unplanted["wrinkles"])


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
    base = score("oiliness", _field_face(engine, tone_ctx, "skinquality"))
    crop = tone_ctx.crop.astype(np.float64)
    clean = maps.zone(tone_ctx, "forehead") & maps.skin_pixels(with_crop(tone_ctx), engine.store)
    ys, xs = np.nonzero(clean)
    rng = np.random.default_rng(5)
    alpha = np.zeros(crop.shape[:2])
    for i in rng.choice(len(xs), 10, replace=False):  # ten ~3 mm glints, as test_skinquality
        alpha = np.maximum(alpha, 0.85 * gaussian_blob(crop.shape[:2], (xs[i], ys[i]), 5.0))
    shiny = (crop * (1 - alpha[..., None]) + 250.0 * alpha[..., None]).round().astype(np.uint8)
    got = score("oiliness", _field_face(engine, with_crop(tone_ctx, shiny), "skinquality"))
    assert got.score > base.score and "forehead" in got.where


def test_red_cheeks_read_redness_and_an_even_face_none(engine, tone_ctx):
    from edge.analysis.color_science import lab_to_bgr_u8

    flat = np.broadcast_to(lab_to_bgr_u8(np.array([68.0, 11.0, 17.0])), tone_ctx.crop.shape).copy()
    even = _field_face(engine, with_crop(tone_ctx, flat), "skinquality", "color")
    assert score("redness", even).score == 0.0 and score("uneven_tone", even).score == 0.0
    central = maps.zones(tone_ctx, ("cheek_left", "cheek_right", "nose")).astype(np.float64)
    flushed = add_pigment(flat, hemoglobin=2 * sq.RED_DELTA * central)
    assert score("redness", _field_face(engine, with_crop(tone_ctx, flushed), "skinquality")).score > 80


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
    before = score("uneven_tone", _field_face(engine, tone_ctx, "color"))
    after = score("uneven_tone", _field_face(engine, with_crop(tone_ctx, patched), "color"))
    planted_share = float((melanin > PATCH_OD / 2).sum()) / float(clean.sum())
    assert after.score >= before.score + PLANTED_PATCHES_MIN_RISE, (before, after)
    assert float(after.measure.split("%")[0]) / 100 <= planted_share + 0.01  # never more than was planted


# --- the full scales: one rule, the committed table ----------------------------------------------------


def test_the_full_scale_rule():
    """The p95 of the samples above `found` (numpy's linear percentile), None with too few of them."""
    nothing, found = [0.0] * 500, [float(v) for v in range(1, 101)]
    assert cs.full_scale(nothing + found, 0.0) == (float(np.percentile(found, 95)), 100) == (95.05, 100)
    assert cs.full_scale([0.06] * 50 + [0.1] * 30, 0.06) == (0.1, 30)  # at `found` is not found
    assert cs.full_scale(nothing + found[: cs.MIN_FOUND_SAMPLES - 1], 0.0) is None


def test_the_product_reads_the_scales_the_rule_chose_on_the_valid_split():
    """concern_table.json, as scripts/concern_repeatability.py wrote it: every full scale is the p95 of the
    found samples it kept beside it, made for these definitions; the product's scores use exactly those."""
    import json

    from edge.api.shop_state import CONCERN_TABLE

    data = json.loads(CONCERN_TABLE.read_text())
    assert data["definitions_version"] == cs.DEFINITIONS_VERSION and data["data"].startswith("acne-new v36 valid")
    assert data["full_scale_rule"].startswith(cs.FULL_SCALE_RULE)
    for c in CONCERNS:
        entry = data["full_scales"][c]
        assert FULL[c] == entry["full"] == entry["above_found"]["p95"], c
        assert entry["found"] == cs.FOUND[c] and entry["found_samples"] >= cs.MIN_FOUND_SAMPLES, c
        assert FULL[c] > cs.FOUND[c]
    face = {"blackheadpore": {"pore_num": FULL["pores"] / 2, "blackhead_num": 0}}
    assert cs.concern_scores(face, FULL)["pores"].score == 50.0


def test_a_table_made_for_other_definitions_or_with_a_bad_scale_is_refused():
    import json

    from edge.api.shop_state import CONCERN_TABLE
    from edge.shop.table import TableError, parse_table

    data = json.loads(CONCERN_TABLE.read_text())
    assert parse_table(data).full == FULL
    for broken, says in [
        ({**data, "definitions_version": cs.DEFINITIONS_VERSION - 1}, "re-run scripts/concern_repeatability.py"),
        ({**data, "scores_version": 0}, "scores_version"),
        ({**data, "full_scales": {**data["full_scales"], "redness": {"full": 0.05}}}, "not above where it is found"),
        ({**data, "full_scales": {**data["full_scales"], "acne": {"full": float("nan")}}}, "full_scales.acne.full"),
        ({**data, "concerns": {**data["concerns"], "pores": {}}}, "concerns.pores.mdc95"),
    ]:
        with pytest.raises(TableError, match=says):
            parse_table(broken)


def test_the_script_skips_without_the_valid_split_and_leaves_the_table(monkeypatch, tmp_path, capsys):
    import sys

    from edge.api.shop_state import CONCERN_TABLE
    from edge.config import REPO_ROOT

    monkeypatch.syspath_prepend(str(REPO_ROOT / "scripts"))
    import concern_repeatability as script

    before = CONCERN_TABLE.read_bytes()
    monkeypatch.setattr(script, "DEFAULT_SPLIT", tmp_path / "absent")
    assert script.main([]) == 0
    assert "skipped, no split at" in capsys.readouterr().out and CONCERN_TABLE.read_bytes() == before
    assert script.main([str(tmp_path / "absent")]) == 2  # a split named on purpose must exist
    sys.modules.pop("concern_repeatability", None)


def test_the_script_bumps_the_scores_version_when_a_scale_changes(monkeypatch):
    import copy
    import json
    import sys

    from edge.api.shop_state import CONCERN_TABLE
    from edge.config import REPO_ROOT

    monkeypatch.syspath_prepend(str(REPO_ROOT / "scripts"))
    import concern_repeatability as script

    old = json.loads(CONCERN_TABLE.read_text())
    fresh = copy.deepcopy(old)
    assert script.scores_version(fresh, old) == old["scores_version"]  # same scales: visits stay comparable
    fresh["full_scales"]["acne"]["full"] *= 1.5  # e.g. a retrained lesion model finds more
    assert script.scores_version(fresh, old) == old["scores_version"] + 1
    legacy = {k: v for k, v in old.items() if k not in ("scores_version", "full_scales")}
    assert script.scores_version(fresh, {**legacy, "definitions_version": 1}) == 2  # what visits stored before
    sys.modules.pop("concern_repeatability", None)
