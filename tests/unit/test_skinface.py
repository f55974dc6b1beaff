"""skinface: four valid base64 JPEGs; brown_pic follows melanin and red_pic hemoglobin, each alone."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.analysis.color_science import add_pigment
from tests.tone_helpers import decode_b64_jpeg, face_context, gaussian_blob, run_field, with_crop

KEYS = ("src_pic", "gray_pic", "brown_pic", "red_pic")


@pytest.fixture(scope="module")
def ctx(engine, astronaut_bgr):
    return face_context(engine, astronaut_bgr)


def pictures(engine, ctx) -> dict[str, np.ndarray]:
    images = run_field(engine, "skinface", ctx)["skinface"]["skin_health_check_images"]
    assert set(images) == set(KEYS)
    return {k: decode_b64_jpeg(images[k]) for k in KEYS}


def darkness(img: np.ndarray, center: tuple[float, float], radius: float) -> float:
    """Mean (255 - luma) in a disc: both ramps go from light (typical skin) to dark (more pigment)."""
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    yy, xx = np.mgrid[0:gray.shape[0], 0:gray.shape[1]]
    disc = (xx - center[0]) ** 2 + (yy - center[1]) ** 2 <= radius**2
    return float(255.0 - gray[disc].mean())


def zone_center(ctx, zone: str) -> tuple[float, float]:
    ys, xs = np.nonzero(ctx.regions.mask(zone))
    return float(xs.mean()), float(ys.mean())


def test_four_valid_jpegs(engine, ctx):
    pics = pictures(engine, ctx)
    size = ctx.crop_size
    assert pics["src_pic"].shape == (size, size, 3) and pics["gray_pic"].shape == (size, size)
    assert pics["brown_pic"].shape == (size, size, 3) and pics["red_pic"].shape == (size, size, 3)
    assert np.abs(pics["src_pic"].astype(int) - ctx.crop).mean() < 4  # the crop itself, JPEG-compressed
    b, g, r = (pics["brown_pic"][ctx.regions.mask("skin") > 0].mean(0))
    assert r > g > b, "brown picture should look brown"
    b, g, r = (pics["red_pic"][ctx.regions.mask("skin") > 0].mean(0))
    assert r > g and r > b, "red picture should look red"


@pytest.mark.parametrize("pigment,raised,unchanged", [("melanin", "brown_pic", "red_pic"),
                                                       ("hemoglobin", "red_pic", "brown_pic")])
def test_planted_pigment_shows_in_its_picture_only(engine, ctx, pigment, raised, unchanged):
    center, sigma = zone_center(ctx, "cheek_left"), 8.0
    blob = gaussian_blob(ctx.crop.shape[:2], center, sigma)
    planted = add_pigment(ctx.crop, **{pigment: 0.4 * blob})
    before, after = pictures(engine, ctx), pictures(engine, with_crop(ctx, planted))
    gain = darkness(after[raised], center, sigma) - darkness(before[raised], center, sigma)
    cross = darkness(after[unchanged], center, sigma) - darkness(before[unchanged], center, sigma)
    assert gain > 30, f"{raised} darkened by only {gain:.1f} grey levels"
    assert abs(cross) < max(6.0, 0.15 * gain), f"{unchanged} moved by {cross:.1f}"
    # Away from the plant nothing changes (the pictures are referenced to the face's own skin).
    far = zone_center(ctx, "cheek_right")
    assert abs(darkness(after[raised], far, sigma) - darkness(before[raised], far, sigma)) < 3


def test_extended_reports_references_only_when_asked(engine, ctx):
    assert "extended" not in run_field(engine, "skinface", ctx)
    ext = run_field(engine, "skinface", ctx, extended=True)["extended"]["skinface"]
    assert set(ext) == {"reference_melanin_od", "reference_hemoglobin_od"}
