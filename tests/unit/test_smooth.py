"""skin.smooth: the texture measure on truth-known gratings, grade boundaries, texture / smoothing
response on the test photo, and stability under exposure and JPEG."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.analysis.color_science import lab_to_bgr_u8
from edge.analysis.reference import LOG_SIGMAS
from edge.analysis.smooth import SMOOTH_BOUNDARIES, smooth_grade
from tests.tone_helpers import analyze_photo, exposure, face_context, jpeg, run_field, with_crop


@pytest.fixture(scope="module")
def ctx(engine, astronaut_bgr):
    return face_context(engine, astronaut_bgr)


@pytest.fixture(scope="module")
def baseline(engine, astronaut_bgr):
    return analyze_photo(engine, astronaut_bgr, ["smooth"], extended=True)


def grating(size: int, contrast: float, gain: float = 1.0) -> np.ndarray:
    """Skin-coloured crop modulated by a vertical sinusoid at the band-pass filter's peak frequency."""
    omega = np.sqrt(2.0) / LOG_SIGMAS[1]  # sigma^2 LoG peaks at sigma * omega = sqrt(2)
    skin = lab_to_bgr_u8(np.array([70.0, 10.0, 17.0])).astype(np.float64)
    x = np.arange(size)
    row = 1.0 + contrast * np.sin(omega * x)
    img = skin[None, None, :] * row[None, :, None] * gain
    return np.clip(np.broadcast_to(img, (size, size, 3)) + 0.5, 0, 255).astype(np.uint8)


def test_grades_and_boundaries():
    assert [smooth_grade(v) for v in (0.0, 0.74, 0.75, 1.49, 1.5, 2.99, 3.0, 9.0)] == [1, 1, 2, 2, 3, 3, 4, 4]
    assert all(b2 == 2 * b1 for b1, b2 in zip(SMOOTH_BOUNDARIES, SMOOTH_BOUNDARIES[1:], strict=False))


@pytest.mark.parametrize("contrast", [0.02, 0.04, 0.1])
def test_grating_reads_its_contrast_whatever_the_exposure(engine, ctx, contrast):
    # Documented relation: texture % ~ 0.47 x Michelson contrast % at the filter's peak frequency.
    values = []
    for gain in (0.6, 1.0):
        part = run_field(engine, "smooth", with_crop(ctx, grating(ctx.crop_size, contrast, gain)), extended=True)
        values.append(part["extended"]["smooth"]["texture_pct"])
    expected = (2 / np.pi) * 2 * np.exp(-1) * contrast * 100
    assert values[1] == pytest.approx(expected, rel=0.15, abs=0.05)
    assert values[0] == pytest.approx(values[1], rel=0.1, abs=0.05)


def test_fine_texture_raises_smooth(engine, astronaut_bgr, baseline):
    rng = np.random.default_rng(3)
    noise = cv2.GaussianBlur(rng.normal(0, 1, astronaut_bgr.shape[:2]).astype(np.float32), (0, 0), 0.8)
    noise /= noise.std()  # ~1-2 px grain, 6 % RMS: pores / roughness at the photo's resolution
    rough = np.clip(astronaut_bgr * (1 + 0.06 * noise)[..., None], 0, 255).astype(np.uint8)
    got = analyze_photo(engine, rough, ["smooth"])["skin"]["smooth"]
    assert got > baseline["skin"]["smooth"]


def test_bilateral_smoothing_lowers_smooth(engine, astronaut_bgr, baseline):
    smoothed = cv2.bilateralFilter(astronaut_bgr, 9, 40, 5)  # a typical "beauty" filter
    got = analyze_photo(engine, smoothed, ["smooth"])["skin"]["smooth"]
    assert got < baseline["skin"]["smooth"]


@pytest.mark.parametrize("gain", [0.9, 1.1])
def test_exposure_keeps_smooth(engine, astronaut_bgr, baseline, gain):
    assert analyze_photo(engine, exposure(astronaut_bgr, gain), ["smooth"])["skin"]["smooth"] == baseline["skin"]["smooth"]


def test_jpeg70_keeps_smooth(engine, astronaut_bgr, baseline):
    assert analyze_photo(engine, jpeg(astronaut_bgr, 70), ["smooth"])["skin"]["smooth"] == baseline["skin"]["smooth"]


def test_default_output_is_seed_shape(engine, ctx):
    part = run_field(engine, "smooth", ctx)
    assert set(part) == {"skin"} and part["skin"]["smooth"] in (1, 2, 3, 4)
