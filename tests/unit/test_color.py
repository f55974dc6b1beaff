"""skin.color: CIELAB and ITA maths, ITA classes at every boundary, melanin monotonicity, stability."""

from __future__ import annotations

import numpy as np
import pytest

from edge.analysis.color_science import (
    ITA_BOUNDARIES,
    add_pigment,
    bgr_to_lab,
    ita_class,
    ita_deg,
    lab_for_ita,
    lab_to_bgr_u8,
    lab_to_rgb,
    pigments,
    rgb_to_lab,
)
from tests.tone_helpers import analyze_photo, exposure, face_context, jpeg, run_field, with_crop


@pytest.fixture(scope="module")
def ctx(engine, astronaut_bgr):
    return face_context(engine, astronaut_bgr)


@pytest.fixture(scope="module")
def baseline(engine, astronaut_bgr):
    return analyze_photo(engine, astronaut_bgr, ["color"], extended=True)


def test_lab_known_values():
    # CIE / sRGB reference values (D65): white, mid grey, the sRGB primaries.
    cases = {(1, 1, 1): (100, 0, 0), (0.5, 0.5, 0.5): (53.39, 0, 0), (1, 0, 0): (53.24, 80.09, 67.20),
             (0, 1, 0): (87.73, -86.18, 83.18), (0, 0, 1): (32.30, 79.19, -107.86)}
    for rgb, lab in cases.items():
        assert np.allclose(rgb_to_lab(np.array(rgb, float)), lab, atol=0.05), rgb
    rng = np.random.default_rng(1)
    rgb = rng.uniform(0, 1, (200, 3))
    assert np.allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-6)
    u8 = rng.integers(0, 256, (200, 3)).astype(np.uint8)
    assert np.allclose(bgr_to_lab(u8), rgb_to_lab(u8[:, ::-1] / 255.0), atol=1e-9)


def test_ita_formula_and_classes():
    assert ita_deg(50.0, 20.0) == pytest.approx(0.0)
    assert ita_deg(70.0, 20.0) == pytest.approx(45.0)
    assert ita_deg(30.0, 20.0) == pytest.approx(-45.0)
    assert [ita_class(v) for v in (80, 50, 30, 20, 0, -40)] == [1, 2, 3, 4, 5, 6]
    for grade, boundary in enumerate(ITA_BOUNDARIES, start=1):
        assert ita_class(boundary + 1e-6) == grade and ita_class(boundary) == grade + 1


# (boundary, L* of the test patches): lightness chosen so both sides are in the sRGB gamut.
PATCH_LIGHTNESS = {55.0: 75.0, 41.0: 68.0, 28.0: 62.0, 10.0: 56.0, -30.0: 35.0}


@pytest.mark.parametrize("boundary", ITA_BOUNDARIES)
@pytest.mark.parametrize("offset", [2.0, -2.0])
def test_uniform_patch_gives_its_ita_class(engine, ctx, boundary, offset):
    ita = boundary + offset
    lab = lab_for_ita(ita, PATCH_LIGHTNESS[boundary], a_star=9.0)
    bgr = lab_to_bgr_u8(lab)
    realised = bgr_to_lab(bgr)
    assert np.allclose(realised, lab, atol=0.6), "patch colour out of gamut"
    patch = np.broadcast_to(bgr, ctx.crop.shape).copy()
    part = run_field(engine, "color", with_crop(ctx, patch), extended=True)
    expected = ita_class(ita)
    assert part["skin"]["color"] == expected
    assert part["extended"]["color"]["ita_deg"] == pytest.approx(ita, abs=1.0)  # 8-bit rounding


def test_more_melanin_never_lightens(engine, astronaut_bgr, baseline):
    grades = [baseline["skin"]["color"]]
    for melanin in (0.15, 0.3, 0.6, 1.0, 1.5):
        darker = add_pigment(astronaut_bgr, melanin=melanin)
        grades.append(analyze_photo(engine, darker, ["color"])["skin"]["color"])
    assert grades == sorted(grades), grades
    assert grades[-1] >= grades[0] + 3, grades


@pytest.mark.parametrize("lab", [(70.0, 9.0, 16.0), (55.0, 12.0, 22.0), (40.0, 10.0, 20.0)])
def test_add_pigment_changes_only_that_pigment(lab):
    patch = np.broadcast_to(lab_to_bgr_u8(np.array(lab)), (8, 8, 3))
    before = pigments(patch).reshape(-1, 3)
    after = pigments(add_pigment(patch, melanin=0.3)).reshape(-1, 3)
    delta = np.median(after - before, axis=0)
    assert delta[0] == pytest.approx(0.3, abs=0.02) and abs(delta[1]) < 0.02
    redder = pigments(add_pigment(patch, hemoglobin=0.2)).reshape(-1, 3)
    delta = np.median(redder - before, axis=0)
    assert delta[1] == pytest.approx(0.2, abs=0.02) and abs(delta[0]) < 0.02


def test_exposure_moves_color_at_most_one_class(engine, astronaut_bgr, baseline):
    for gain in (0.9, 1.1):
        got = analyze_photo(engine, exposure(astronaut_bgr, gain), ["color"])["skin"]["color"]
        assert abs(got - baseline["skin"]["color"]) <= 1, gain


def test_jpeg70_keeps_color(engine, astronaut_bgr, baseline):
    got = analyze_photo(engine, jpeg(astronaut_bgr, 70), ["color"])["skin"]["color"]
    assert got == baseline["skin"]["color"]


def test_default_output_is_seed_shape(engine, ctx):
    part = run_field(engine, "color", ctx)
    assert set(part) == {"skin"} and isinstance(part["skin"]["color"], int) and 1 <= part["skin"]["color"] <= 6


def test_reliability_flag_marks_greyscale_and_overexposed_measurements():
    from edge.analysis.color import is_reliable

    assert is_reliable(70.0, 10.0, 18.0)  # typical light skin
    assert is_reliable(38.0, 12.0, 15.0)  # dark skin, fair light
    assert not is_reliable(70.0, 0.5, 1.0)  # greyscale picture
    assert not is_reliable(97.0, 3.0, 6.0)  # washed out


def test_extended_color_says_when_a_grey_photo_cannot_be_measured(engine, astronaut_bgr):
    import cv2

    colour = engine.analyze(astronaut_bgr, ["color"], extended=True)[0]["extended"]["color"]
    grey_img = cv2.cvtColor(cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    grey = engine.analyze(grey_img, ["color"], extended=True)[0]["extended"]["color"]
    assert colour["reliable"] is True and grey["reliable"] is False
