"""wrinkle: planted lines found and typed, smoothing gives (almost) none, natural edges, shading edges
and hair masses never become wrinkles, and the seed's shape."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.analysis import wrinkle as wr
from tests.unit.lines_eyes_scenes import ev

MIN_COVERAGE = 0.9
MIN_TYPE_ACCURACY = 0.8
MAX_BILATERAL = 1


@pytest.fixture(scope="module")
def planted_eval(engine):
    return ev.evaluate_wrinkles(engine, images=2, seed=5)


def test_planted_wrinkles_are_covered(planted_eval):
    assert planted_eval["planted"] >= 12
    assert planted_eval["coverage"] >= MIN_COVERAGE, planted_eval["rows"]


def test_planted_wrinkles_get_their_region_type(planted_eval):
    assert planted_eval["type_accuracy"] >= MIN_TYPE_ACCURACY, planted_eval["rows"]


def test_planted_under_eye_lines_are_fine_lines_around_the_eyes(planted_eval):
    assert planted_eval["under_eye_planted"] >= 2
    assert planted_eval["under_eye_coverage"] >= MIN_COVERAGE
    assert planted_eval["under_eye_type_accuracy"] >= MIN_TYPE_ACCURACY


def test_bilateral_smoothed_copy_has_at_most_one_wrinkle(planted_eval):
    assert planted_eval["bilateral_count"] <= MAX_BILATERAL


@pytest.fixture(scope="module")
def clean_jitter(engine):
    return ev.evaluate_clean_jitter(engine, n=ev.JITTER_N)


def test_bilateral_smoothed_jittered_copies_have_at_most_one_wrinkle(clean_jitter):
    """The portrait shifted / rescaled / rolled / re-exposed / re-JPEGed (8 seeded variants), each
    bilateral-smoothed: <= 1 wrinkle on every one."""
    assert clean_jitter["faces_missed"] == 0
    assert clean_jitter["bilateral"]["max"] <= MAX_BILATERAL, clean_jitter["rows"]


def test_shape_matches_the_contract(engine, portrait):
    face = engine.analyze(portrait, ["wrinkle"])[0]
    w = face["wrinkle"]
    assert list(w) == ["wrinkle_num", "wrinkle_types", "wrinkle_data"]
    assert "extended" not in face
    assert isinstance(w["wrinkle_num"], int) and w["wrinkle_num"] == len(w["wrinkle_types"]) == len(w["wrinkle_data"])
    h, wd = portrait.shape[:2]
    for kind, line in zip(w["wrinkle_types"], w["wrinkle_data"], strict=True):
        assert isinstance(kind, int) and 1 <= kind <= 6
        assert len(line) >= 2
        for p in line:
            assert list(p) == ["x", "y"] and 0 <= p["x"] < wd and 0 <= p["y"] < h
    ext = engine.analyze(portrait, ["wrinkle"], extended=True)[0]["extended"]["wrinkle"]
    assert len(ext["length_mm"]) == len(ext["depth_od"]) == len(ext["zone"]) == w["wrinkle_num"]


def test_coordinates_are_original_pixels(engine, portrait):
    """A planted line in a 2x downscaled analysis comes back at its original-image position."""
    ctx = engine.face_contexts(portrait)[0]
    planted = ev.plan_wrinkles(ctx, np.random.default_rng(11))
    img = ev.draw_wrinkles(portrait, planted)
    big = cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    small = cv2.resize(big, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    native, _ = ev._polylines(engine.analyze(img, ["wrinkle"])[0])
    scaled, _ = ev._polylines(engine.analyze(small, ["wrinkle"], to_original=2.0)[0])
    found = [p for p in planted if ev.coverage(p, native)[0] >= 0.9]
    assert len(found) >= 4
    for p in found:  # the same line, reported in the 2x frame's pixels
        assert ev.coverage(ev.Planted(p.zone, p.type, p.path * 2.0, p.contrast, p.width), scaled)[0] >= 0.7


def _edge_band_lines(ctx, offset_mm: float) -> list[np.ndarray]:
    """Paths (original px) running along the lower eyelids, the brows' upper borders and the upper lip,
    offset_mm outside each outline."""
    px = offset_mm / ctx.mm_per_px
    paths = []
    for name in ("eye_left", "eye_right"):
        lid = ctx.regions.polygon(name)[:9]  # lower lid, outer -> inner corner
        paths.append(lid + [0.0, px])
    for name in ("brow_left", "brow_right"):
        poly = ctx.regions.polygon(name)
        upper = poly[:5]  # the brow's upper border (mesh order)
        paths.append(upper - [0.0, px])
    lips = ctx.regions.polygon("lips")
    top = lips[lips[:, 1] <= np.median(lips[:, 1])]
    top = top[np.argsort(top[:, 0])]
    paths.append(top - [0.0, px])
    return [ev._densify(ctx.crop_to_original(p)) for p in paths]


def test_no_wrinkle_runs_along_eyelids_brows_or_lips(engine, portrait, portrait_ctx):
    """Dark lines drawn right along the lower lids, brow borders and upper lip (where lid creases,
    brow shadows and the lip line are) are natural edges: no wrinkle polyline follows them."""
    paths = _edge_band_lines(portrait_ctx, offset_mm=1.2)
    planted = [ev.Planted("edge", 0, p, 0.3, 2.5) for p in paths]
    img = ev.draw_wrinkles(portrait, planted)
    for image in (portrait, img):
        lines, _ = ev._polylines(engine.analyze(image, ["wrinkle"])[0])
        for line in lines:
            dense = ev._densify(line)
            for p in paths:
                d = np.sqrt(((dense[:, None, :] - p[None, :, :]) ** 2).sum(-1)).min(1)
                assert np.mean(d <= ev.COVER_PX) <= 0.5, "a wrinkle polyline follows a natural edge"


def test_shading_edge_is_not_a_wrinkle(engine, portrait, portrait_ctx):
    """A sharp horizontal shading step across the forehead (a shadow border) is an edge, not a line."""
    fh = portrait_ctx.crop_to_original(portrait_ctx.regions.polygon("forehead"))
    y_mid = int(np.median(fh[:, 1]))
    img = portrait.astype(np.float32)
    img[:y_mid] *= 0.82
    img = np.clip(img, 0, 255).astype(np.uint8)
    face = engine.analyze(img, ["wrinkle"])[0]
    lines, _ = ev._polylines(face)
    for line in lines:
        along = np.abs(ev._densify(line)[:, 1] - y_mid) <= ev.COVER_PX
        assert along.mean() <= 0.5


def test_wide_dark_band_is_not_a_wrinkle(engine, portrait, portrait_ctx):
    """A dark band 4 mm wide across the forehead (a fringe of hair, a shadow) is neither a wrinkle nor
    two (its borders)."""
    fh = portrait_ctx.crop_to_original(portrait_ctx.regions.polygon("forehead"))
    y_mid = float(np.median(fh[:, 1]))
    width = 4.0 / portrait_ctx.mm_per_px / portrait_ctx.crop_px_per_image_px
    x0, x1 = float(np.percentile(fh[:, 0], 20)), float(np.percentile(fh[:, 0], 80))
    path = ev._densify(np.array([[x0, y_mid], [x1, y_mid]]))
    img = ev.draw_wrinkles(portrait, [ev.Planted("band", 0, path, 0.35, width)])
    lines, _ = ev._polylines(engine.analyze(img, ["wrinkle"])[0])
    for line in lines:
        near = np.abs(ev._densify(line)[:, 1] - y_mid) <= width
        assert near.mean() <= 0.5


def test_dark_spots_are_not_wrinkles(engine, portrait, portrait_ctx):
    """Round dark spots (moles, pores, 1-3 mm, 30 % darker) on forehead and cheeks: no wrinkle at them."""
    img = portrait.astype(np.float32)
    yy, xx = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    spots = []
    for zone, diameter_mm in (("forehead", 1.0), ("forehead", 3.0), ("glabella", 2.0), ("crows_feet_left", 2.0)):
        ys, xs = np.nonzero(portrait_ctx.regions.mask(zone))
        c = portrait_ctx.crop_to_original(np.array([[np.median(xs), np.median(ys)]]))[0]
        r = diameter_mm / 2 / portrait_ctx.mm_per_px / portrait_ctx.crop_px_per_image_px
        img *= (1.0 - 0.3 * np.exp(-0.5 * ((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / r**2))[..., None]
        spots.append((c, r))
    img = np.clip(img, 0, 255).astype(np.uint8)
    lines, _ = ev._polylines(engine.analyze(img, ["wrinkle"])[0])
    for c, r in spots:
        for line in lines:
            near = np.hypot(*(ev._densify(line) - c).T) <= 2 * r + ev.COVER_PX
            assert near.mean() <= 0.5


def test_faint_texture_below_threshold_is_ignored(engine, portrait, portrait_ctx):
    """A line only 3 % darker than the skin (below the ~4 % seed) is not reported."""
    rng = np.random.default_rng(3)
    planted = ev.plan_wrinkles(portrait_ctx, rng)
    faint = [ev.Planted(p.zone, p.type, p.path, 0.03, p.width) for p in planted]
    face = engine.analyze(ev.draw_wrinkles(portrait, faint), ["wrinkle"])[0]
    lines, _ = ev._polylines(face)
    assert np.mean([ev.coverage(p, lines)[0] for p in faint]) < 0.3


@pytest.mark.parametrize(("tilt", "at_glabella", "want"), [(5.0, False, wr.FOREHEAD), (80.0, True, wr.GLABELLAR),
                                                             (80.0, False, None)])
def test_forehead_orientation_rules(portrait_ctx, tilt, at_glabella, want):
    finder = wr.WrinkleFinder(portrait_ctx)
    zone_index = np.zeros((portrait_ctx.crop_size,) * 2, np.uint8)
    zone_index[:] = list(wr.ZONE_TYPES).index("forehead") + 1
    gl = portrait_ctx.regions.polygon("glabella")
    fh = portrait_ctx.regions.polygon("forehead")
    cx = gl[:, 0].mean() if at_glabella else fh[:, 0].min() + 0.1 * np.ptp(fh[:, 0])
    cy = fh[:, 1].mean()
    t = np.radians(tilt)
    pts = np.array([[cx, cy]]) + np.linspace(-10, 10, 21)[:, None] * [np.cos(t), np.sin(t)]
    got = finder.classify(pts, zone_index)
    assert (got[0] if got else None) == want


def test_nasolabial_line_across_the_fold_is_perioral(portrait_ctx):
    finder = wr.WrinkleFinder(portrait_ctx)
    zone_index = np.full((portrait_ctx.crop_size,) * 2, list(wr.ZONE_TYPES).index("nasolabial_left") + 1, np.uint8)
    band = portrait_ctx.regions.polygon("nasolabial_left")
    axis = (band[1] - band[0]) / np.linalg.norm(band[1] - band[0])
    centre = band.mean(0)
    along = centre + np.linspace(-8, 8, 17)[:, None] * axis
    across = centre + np.linspace(-8, 8, 17)[:, None] * np.array([-axis[1], axis[0]])
    assert finder.classify(along, zone_index)[0] == wr.NASOLABIAL
    assert finder.classify(across, zone_index)[0] == wr.PERIORAL
