"""skinquality: planted shine makes only its zone oily, matte rough skin reads dry, redness of the
cheeks and nose reads sensitive; grade rules at their thresholds."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.analysis import maps
from edge.analysis.color_science import add_pigment, lab_to_bgr_u8
from edge.analysis.skinquality import (
    DRY_SHINE,
    DRY_TEXTURE,
    DRYOIL_ZONES,
    OILY_SHINE,
    RED_DELTA,
    SENSITIVE_SPREAD,
    TOLERANT_LEVEL,
    TOLERANT_SPREAD,
    dryoil_grade,
    sensitive_grade,
)
from tests.tone_helpers import face_context, gaussian_blob, run_field, with_crop


@pytest.fixture(scope="module")
def ctx(engine, astronaut_bgr):
    return face_context(engine, astronaut_bgr)


@pytest.fixture(scope="module")
def baseline(engine, ctx):
    return run_field(engine, "skinquality", ctx)["skinquality"]


def uniform_skin(ctx) -> np.ndarray:
    return np.broadcast_to(lab_to_bgr_u8(np.array([68.0, 11.0, 17.0])), ctx.crop.shape).copy()


def test_rules_at_thresholds():
    assert dryoil_grade(None, 5.0) == "1"
    assert dryoil_grade(OILY_SHINE, 0.1) == "2" and dryoil_grade(OILY_SHINE * 0.99, 0.1) == "1"
    assert dryoil_grade(DRY_SHINE * 0.99, DRY_TEXTURE) == "0"
    assert dryoil_grade(DRY_SHINE, DRY_TEXTURE) == "1" and dryoil_grade(0.0, DRY_TEXTURE * 0.99) == "1"
    assert sensitive_grade(0.0, SENSITIVE_SPREAD) == "2"
    assert sensitive_grade(0.0, TOLERANT_SPREAD * 0.99) == "0"
    assert sensitive_grade(TOLERANT_LEVEL, TOLERANT_SPREAD * 0.99) == "1"
    assert sensitive_grade(0.0, TOLERANT_SPREAD) == "1"
    assert 0.08 < RED_DELTA < 0.2  # Delta a* +4 at typical skin, in hemoglobin OD


def test_seed_shape(baseline):
    assert len(baseline["skin_dryoil_check"]) == 5 and set(baseline["skin_dryoil_check"]) <= {"0", "1", "2"}
    assert len(baseline["skin_sensitive_check"]) == 1 and baseline["skin_sensitive_check"][0] in {"0", "1", "2"}


def test_planted_forehead_shine_makes_only_the_forehead_oily(engine, ctx, baseline):
    assert baseline["skin_dryoil_check"][0] != "2", "the test photo's forehead must not start oily"
    crop = ctx.crop.astype(np.float64)
    clean = maps.zone(ctx, "forehead") & maps.skin_pixels(with_crop(ctx), engine.store)
    ys, xs = np.nonzero(clean)
    rng = np.random.default_rng(5)
    alpha = np.zeros(crop.shape[:2])
    for i in rng.choice(len(xs), 10, replace=False):  # ten glints of ~3 mm
        alpha = np.maximum(alpha, 0.85 * gaussian_blob(crop.shape[:2], (xs[i], ys[i]), 5.0))
    shiny = (crop * (1 - alpha[..., None]) + 250.0 * alpha[..., None]).round().astype(np.uint8)
    got = run_field(engine, "skinquality", with_crop(ctx, shiny))["skinquality"]["skin_dryoil_check"]
    assert got[0] == "2"
    assert got[1:] == baseline["skin_dryoil_check"][1:]


def test_matte_rough_skin_reads_dry_and_flat_skin_neutral(engine, ctx):
    flat = uniform_skin(ctx)
    part = run_field(engine, "skinquality", with_crop(ctx, flat))["skinquality"]
    assert part["skin_dryoil_check"] == ["1"] * len(DRYOIL_ZONES)
    assert part["skin_sensitive_check"] == ["0"]
    rng = np.random.default_rng(2)
    grain = cv2.GaussianBlur(rng.standard_normal(flat.shape[:2]).astype(np.float32), (0, 0), 2.0)
    grain /= grain.std()  # ~1 mm grain, 8 % RMS: flaky, rough skin
    rough = np.clip(flat * (1 + 0.08 * grain)[..., None], 0, 255).astype(np.uint8)
    part = run_field(engine, "skinquality", with_crop(ctx, rough), extended=True)
    assert part["skinquality"]["skin_dryoil_check"] == ["0"] * len(DRYOIL_ZONES), part["extended"]


def test_red_cheeks_and_nose_read_sensitive(engine, ctx):
    flat = uniform_skin(ctx)
    central = (maps.zones(ctx, ("cheek_left", "cheek_right", "nose"))).astype(np.float64)
    flushed = add_pigment(flat, hemoglobin=2 * RED_DELTA * central)
    part = run_field(engine, "skinquality", with_crop(ctx, flushed), extended=True)
    assert part["skinquality"]["skin_sensitive_check"] == ["2"]
    assert part["extended"]["skinquality"]["redness"]["spread"] > 0.9
    # The same redness over the whole face is a flush of the whole face, not a sensitive pattern.
    everywhere = add_pigment(flat, hemoglobin=2 * RED_DELTA)
    assert run_field(engine, "skinquality", with_crop(ctx, everywhere))["skinquality"]["skin_sensitive_check"] == ["0"]


def test_greyscale_picture_is_neutral_not_guessed(engine, astronaut_bgr):
    """No colour, no shine-vs-skin or redness signal: every zone and the sensitivity read neutral."""
    import cv2

    grey = cv2.cvtColor(cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    quality = engine.analyze(grey, ["skinquality"])[0]["skinquality"]
    assert quality == {"skin_dryoil_check": ["1"] * 5, "skin_sensitive_check": ["1"]}


def _cheek_at(ctx, persons_left: bool) -> np.ndarray:
    """The cheek zone found by position, not by name: the person's left cheek lies at larger x than the
    face centre in the unmirrored photo (original px), the right one at smaller x."""
    centre_x = ctx.crop_to_original(np.array([[ctx.crop_size / 2, ctx.crop_size / 2]]))[0, 0]
    for name in ("cheek_left", "cheek_right"):
        ys, xs = np.nonzero(maps.zone(ctx, name))
        x = ctx.crop_to_original(np.array([[xs.mean(), ys.mean()]]))[0, 0]
        if (x > centre_x) == persons_left:
            return maps.zone(ctx, name)
    raise AssertionError("no cheek on that side of the face")


@pytest.mark.parametrize("persons_left", [True, False], ids=["persons_left", "persons_right"])
def test_shine_on_one_cheek_makes_only_that_persons_cheek_oily(engine, ctx, baseline, persons_left):
    """skin_dryoil_check order: forehead, nose, left cheek, right cheek, chin (the person's sides)."""
    want, other = (2, 3) if persons_left else (3, 2)
    assert baseline["skin_dryoil_check"][want] != "2", "the test photo's cheek must not start oily"
    crop = ctx.crop.astype(np.float64)
    clean = _cheek_at(ctx, persons_left) & maps.skin_pixels(with_crop(ctx), engine.store)
    ys, xs = np.nonzero(clean)
    rng = np.random.default_rng(7)
    alpha = np.zeros(crop.shape[:2])
    for i in rng.choice(len(xs), 10, replace=False):  # ten glints of ~3 mm
        alpha = np.maximum(alpha, 0.85 * gaussian_blob(crop.shape[:2], (xs[i], ys[i]), 5.0))
    shiny = (crop * (1 - alpha[..., None]) + 250.0 * alpha[..., None]).round().astype(np.uint8)
    got = run_field(engine, "skinquality", with_crop(ctx, shiny))["skinquality"]["skin_dryoil_check"]
    assert got[want] == "2", got
    assert got[other] != "2", got
