"""ridges: the Hessian line field, its blob and fold discrimination, tracing and linking, on
synthetic images with known lines."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.analysis import ridges

SIZE = 512
SKIN = 180.0


def _gray_with(profile_fn) -> np.ndarray:
    """A flat grey image multiplied by 1 - profile(distance to a known line/point)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    return np.clip(SKIN * (1.0 - profile_fn(xx, yy)), 0, 255).astype(np.uint8)


def _line_distance(xx, yy, angle_deg: float, x0: float = 256.0, y0: float = 256.0):
    t = np.radians(angle_deg)
    return np.abs(-(xx - x0) * np.sin(t) + (yy - y0) * np.cos(t))


def _field(gray: np.ndarray) -> ridges.RidgeField:
    maps = ridges.relative_maps(ridges.ridge_hessian_reference(gray), gray)
    return ridges.ridge_field(maps, SIZE)


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 135.0])
def test_thin_line_gives_a_ridge_with_the_right_normal(angle):
    s = 1.0  # line std, crop px (FWHM ~2.4 px)
    gray = _gray_with(lambda x, y: 0.25 * np.exp(-0.5 * (_line_distance(x, y, angle) / s) ** 2))
    f = _field(gray)
    nms = ridges.non_max_suppression(f, 0.01)
    on_line = _line_distance(*np.mgrid[0:SIZE, 0:SIZE][::-1], angle) <= 1.0
    centre = np.zeros_like(on_line)
    centre[156:356, 156:356] = True
    t = np.radians(angle)
    tangent = np.array([np.cos(t), np.sin(t)])
    samples = np.array([256.0, 256.0]) + np.arange(-90, 91)[:, None] * tangent
    ry, rx = np.nonzero(nms & on_line)
    d = np.hypot(samples[:, None, 0] - rx[None], samples[:, None, 1] - ry[None]).min(1)
    assert np.mean(d <= 1.5) >= 0.95  # a ridge pixel all along the line
    assert not (nms & ~on_line & centre & (f.strength > 0.02)).any()  # nothing strong off the line
    ys, xs = np.nonzero(nms & on_line & centre)
    dots = np.abs(f.normal_x[ys, xs] * tangent[0] + f.normal_y[ys, xs] * tangent[1])
    assert np.median(dots) < 0.1  # the normal is across the line
    # ~25 % deep line answers about a third of its depth (a line as wide as the filter: ~c/2 ... c/3)
    assert 0.05 < np.median(f.strength[ys, xs]) < 0.15


def test_round_spot_is_not_a_line():
    """A dark spot (pore, mole) has equal curvature both ways at its centre: no line strength there;
    on its flanks the larger curvature is tangential, so the normals there run *around* the spot."""
    gray = _gray_with(lambda x, y: 0.3 * np.exp(-0.5 * ((x - 256) ** 2 + (y - 256) ** 2) / 3.0**2))
    f = _field(gray)
    assert f.strength[255:257, 255:257].max() < 0.005
    ys, xs = np.nonzero(f.strength[236:277, 236:277] > 0.01)
    rx, ry = xs + 236 - 256, ys + 236 - 256
    radial = np.abs(rx * f.normal_x[ys + 236, xs + 236] + ry * f.normal_y[ys + 236, xs + 236]) / np.hypot(rx, ry)
    assert np.median(radial) < 0.3


def test_broad_valley_is_a_fold_and_a_thin_line_is_not():
    """The broad scale answers a wide valley (fold) more than the line scales; a thin line less."""
    wide = _field(_gray_with(lambda x, y: 0.2 * np.exp(-0.5 * (_line_distance(x, y, 0.0) / 5.0) ** 2)))
    thin = _field(_gray_with(lambda x, y: 0.2 * np.exp(-0.5 * (_line_distance(x, y, 0.0) / 0.6) ** 2)))
    assert wide.broad[256, 200:300].mean() > wide.strength[256, 200:300].mean()
    assert thin.broad[256, 200:300].mean() < 0.6 * thin.strength[256, 200:300].mean()


def test_exposure_does_not_change_the_relative_response():
    line = lambda x, y: 0.2 * np.exp(-0.5 * (_line_distance(x, y, 20.0) / 1.0) ** 2)  # noqa: E731
    gray = _gray_with(line)
    darker = np.clip(gray.astype(np.float64) * 0.6, 0, 255).astype(np.uint8)
    a, b = _field(gray).strength[200:300, 200:300], _field(darker).strength[200:300, 200:300]
    assert abs(a.max() - b.max()) < 0.1 * a.max()


def test_roi_window_matches_the_full_field():
    gray = _gray_with(lambda x, y: 0.25 * np.exp(-0.5 * (_line_distance(x, y, 40.0) / 1.0) ** 2))
    maps = ridges.relative_maps(ridges.ridge_hessian_reference(gray), gray)
    full = ridges.ridge_field(maps, SIZE)
    win = ridges.ridge_field(maps, SIZE, (128, 96, 384, 416))
    np.testing.assert_allclose(win.strength[40:280, 40:216], full.strength[136:376, 168:344], atol=1e-5)


def test_trace_paths_orders_a_curve_and_drops_short_pieces():
    mask = np.zeros((100, 100), np.uint8)
    t = np.linspace(0, np.pi / 2, 200)
    pts = np.round(np.column_stack([20 + 50 * np.cos(t), 20 + 50 * np.sin(t)])).astype(np.int32)
    cv2.polylines(mask, [pts], False, 1, 1)
    mask[90, 90:93] = 1  # a 3-px speck
    paths = ridges.trace_paths(mask > 0, min_length_px=10)
    assert len(paths) == 1
    p = paths[0]
    assert abs(ridges.arc_length(p) - 50 * np.pi / 2) < 10
    steps = np.hypot(*np.diff(p, axis=0).T)
    assert steps.max() <= np.sqrt(2) + 1e-9  # ordered: every step to an 8-neighbour


def test_trace_paths_keeps_a_branch():
    mask = np.zeros((100, 100), np.uint8)
    cv2.line(mask, (10, 50), (90, 50), 1, 1)
    cv2.line(mask, (50, 50), (50, 10), 1, 1)
    paths = ridges.trace_paths(mask > 0, min_length_px=15)
    assert len(paths) == 2
    assert sorted(round(ridges.arc_length(p)) for p in paths)[-1] >= 75


def test_link_paths_joins_facing_pieces_only():
    a = np.column_stack([np.arange(0, 20.0), np.zeros(20)])
    b = np.column_stack([np.arange(24, 44.0), np.zeros(20)])  # collinear, gap 4
    c = np.column_stack([np.full(20, 22.0), np.arange(3.0, 23.0)])  # perpendicular, near the gap
    joined = ridges.link_paths([a, b], max_gap=6, max_turn_deg=35)
    assert len(joined) == 1 and len(joined[0]) == 40
    assert len(ridges.link_paths([a, c], max_gap=6, max_turn_deg=35)) == 2
    assert len(ridges.link_paths([a, b], max_gap=3, max_turn_deg=35)) == 2
