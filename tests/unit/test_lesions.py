"""Truth-known tests of the shared lesion post-processing (edge/analysis/lesions.py): measurement of
synthetic blobs of known size, contrast and shape, edge rejection, noise estimate, candidate search,
the hair exclusion."""

from __future__ import annotations

import numpy as np
import pytest

from edge.analysis import lesion_blobs as lb
from edge.analysis import lesions as les

SIZE = 256
MM_PER_PX = 0.37  # a typical crop
SKIN = np.array([0.5, 0.4, 0.6], np.float32)  # dark, mel, hem OD of plain skin


def skin_image(rng: np.random.Generator | None = None, noise: float = 0.0) -> np.ndarray:
    img = np.broadcast_to(SKIN, (SIZE, SIZE, 3)).astype(np.float32).copy()
    if rng is not None and noise:
        img += rng.normal(0, noise, img.shape).astype(np.float32)
    return img


def add_disc(img: np.ndarray, cx: float, cy: float, radius: float, contrast: np.ndarray, axes=(1.0, 1.0)) -> None:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    inside = ((xx - cx) / axes[0]) ** 2 + ((yy - cy) / axes[1]) ** 2 <= radius**2
    img[inside] += contrast


def cand(x: float, y: float, sigma: float, channel: int = les.MEL, polarity: int = 1) -> les.Candidate:
    return les.Candidate(x=x, y=y, sigma=sigma, channel=channel, polarity=polarity, response=0.2, significance=3.0)


ALL_SKIN = np.ones((SIZE, SIZE), bool)


@pytest.mark.parametrize("diameter_mm", [1.5, 3.0, 6.0])
def test_measure_recovers_size_and_contrast(diameter_mm: float) -> None:
    img = skin_image()
    r_px = diameter_mm / 2 / MM_PER_PX
    add_disc(img, 128, 128, r_px, np.array([0.1, 0.3, 0.0], np.float32))
    sigma = r_px / les.BLOB_RADIUS_PER_SIGMA
    lesion = les.measure(cand(128, 128, sigma), img, ALL_SKIN, MM_PER_PX)
    assert lesion is not None
    assert lesion.diameter_mm == pytest.approx(diameter_mm, rel=0.2)
    assert lesion.contrast[les.MEL] == pytest.approx(0.3, abs=0.03)
    assert lesion.contrast[les.HEM] == pytest.approx(0.0, abs=0.02)
    assert lesion.elongation == pytest.approx(1.0, abs=0.2)
    assert lesion.solidity > 0.85
    left, top, right, bottom = lesion.box
    assert left < 128 < right and top < 128 < bottom


def test_measure_elongation_of_an_ellipse() -> None:
    img = skin_image()
    add_disc(img, 128, 128, 4.0, np.array([0.1, 0.3, 0.0], np.float32), axes=(3.0, 1.0))
    lesion = les.measure(cand(128, 128, 4.0), img, ALL_SKIN, MM_PER_PX)
    assert lesion is not None and lesion.elongation == pytest.approx(3.0, rel=0.25)
    assert abs(np.cos(lesion.angle)) == pytest.approx(1.0, abs=0.02)  # long axis along x


def test_measure_angle_of_a_tilted_ellipse() -> None:
    import cv2

    img = skin_image()
    mask = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(mask, (128, 128), (12, 4), 45.0, 0, 360, 1, -1)  # long axis at +45 deg (x right, y down)
    img[mask > 0] += np.array([0.1, 0.3, 0.0], np.float32)
    lesion = les.measure(cand(128, 128, 4.0), img, ALL_SKIN, MM_PER_PX)
    assert lesion is not None and lesion.elongation > 2.0
    assert np.degrees(lesion.angle) % 180 == pytest.approx(45.0, abs=5.0)


def test_measure_follows_the_skin_gradient() -> None:
    """A faint 5 mm patch on a cheek-like slope: against the ring's mean its half-contrast segment runs
    up the slope (open); against the fitted plane it closes, with its true size and contrast."""
    img = skin_image()
    xx = np.arange(SIZE, dtype=np.float32)[None, :]
    img[..., les.MEL] += 0.015 * (xx - 128)  # browner to the right: 0.04 OD/mm, a side-lit cheek
    r_px = 2.5 / MM_PER_PX
    add_disc(img, 128, 128, r_px, np.array([0.0, 0.1, 0.0], np.float32))
    lesion = les.measure(cand(128, 128, r_px / les.BLOB_RADIUS_PER_SIGMA), img, ALL_SKIN, MM_PER_PX)
    assert lesion is not None
    assert lesion.diameter_mm == pytest.approx(5.0, rel=0.2)
    assert lesion.contrast[les.MEL] == pytest.approx(0.1, abs=0.015)


def test_surround_plane_recovers_a_plane_and_falls_back_to_the_mean() -> None:
    dxs, dys = np.arange(-5, 6, dtype=np.float32), np.arange(-5, 6, dtype=np.float32)[:, None]
    win = np.stack([0.3 + 0.02 * dxs[None, :] - 0.01 * dys + 0 * dys, np.full((11, 11), 0.2, np.float32),
                    np.zeros((11, 11), np.float32)], axis=-1)
    ring = np.hypot(dxs[None, :], dys) >= 4
    plane = les.surround_plane(win, ring, dxs, dys)
    assert np.allclose(plane, win, atol=1e-5)  # the centre is predicted from the ring alone
    few = np.zeros((11, 11), bool)
    few[0, :3] = True
    assert np.allclose(les.surround_plane(win, few, dxs, dys), win[few].mean(axis=0))


def test_measure_rejects_an_edge() -> None:
    img = skin_image()
    img[:, 128:] += np.array([0.1, 0.3, 0.0], np.float32)  # a half-plane: hair line, shadow edge
    why: list[str] = []
    assert les.measure(cand(130, 128, 2.0), img, ALL_SKIN, MM_PER_PX, why) is None
    assert why == ["open segment"]


def test_measure_rejects_a_blob_without_skin_around() -> None:
    img = skin_image()
    add_disc(img, 128, 128, 4.0, np.array([0.1, 0.3, 0.0], np.float32))
    skin = np.zeros((SIZE, SIZE), bool)
    skin[124:133, 124:133] = True  # only the blob itself is skin
    why: list[str] = []
    assert les.measure(cand(128, 128, 3.0), img, skin, MM_PER_PX, why) is None
    assert why == ["surround not skin"]


def test_light_centre_is_measured() -> None:
    """A red disc with a lighter centre (a pus head) has centre_bright > 0."""
    img = skin_image()
    add_disc(img, 128, 128, 6.0, np.array([0.15, 0.0, 0.3], np.float32))
    add_disc(img, 128, 128, 2.0, np.array([-0.3, 0.0, -0.3], np.float32))
    lesion = les.measure(cand(128, 128, 4.0, channel=les.HEM), img, ALL_SKIN, MM_PER_PX)
    assert lesion is not None and lesion.centre_bright > 0.1


def test_noise_sigma_is_the_robust_spread() -> None:
    rng = np.random.default_rng(0)
    resp = rng.normal(0, 0.02, (SIZE, SIZE)).astype(np.float32)
    resp[100:110, 100:110] = 1.0  # a lesion does not move it
    assert les.noise_sigma(resp, ALL_SKIN) == pytest.approx(0.02, rel=0.1)


def test_find_candidates_one_per_blob_and_not_off_skin() -> None:
    img = skin_image(np.random.default_rng(1), 0.005)
    add_disc(img, 80, 80, 5.0, np.array([0.1, 0.3, 0.0], np.float32))
    add_disc(img, 180, 180, 5.0, np.array([0.1, 0.3, 0.0], np.float32))
    where = ALL_SKIN.copy()
    where[150:, 150:] = False  # the second blob is off the analysable skin
    x = np.clip(img - lb.CHANNEL_SHIFT, -lb.CHANNEL_HALF_RANGE, lb.CHANNEL_HALF_RANGE)
    maps = {name: lb.to_od(m) for name, m in lb.lesion_blobs_reference(x).items()}
    det = les.Detector(thresholds={(les.MEL, 1): 0.05}, scales=tuple(lb.OUTPUTS))
    found = les.find_candidates(maps, where, det, MM_PER_PX)
    assert len(found) == 1
    assert np.hypot(found[0].x - 80, found[0].y - 80) < 3


def test_deduplicate_keeps_one_per_segment() -> None:
    img = skin_image()
    add_disc(img, 128, 128, 5.0, np.array([0.1, 0.3, 0.0], np.float32))
    a = les.measure(cand(128, 128, 4.0), img, ALL_SKIN, MM_PER_PX)
    b = les.measure(cand(129, 127, 2.0), img, ALL_SKIN, MM_PER_PX)
    assert a is not None and b is not None
    assert len(les.deduplicate([a, b])) == 1


def test_score_grows_with_significance() -> None:
    assert les.score_of(1.0) == pytest.approx(1 - les.SCORE_BASE)
    assert les.score_of(1.0) < les.score_of(2.0) < les.score_of(4.0) <= 1.0


class FakeRegions:
    def __init__(self, size: int) -> None:
        self.full = np.full((size, size), 255, np.uint8)

    def mask(self, name: str) -> np.ndarray:
        return self.full


class FakeContext:
    """The few FaceContext members lesions.py uses, for a synthetic crop."""

    def __init__(self, crop: np.ndarray) -> None:
        self.crop = crop
        self.crop_size = crop.shape[0]
        self.regions = FakeRegions(crop.shape[0])
        self.mm_per_px = MM_PER_PX
        self._cache: dict = {}

    def cached(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn(self)
        return self._cache[key]


def test_hair_areas_are_not_analysable_but_a_mole_is() -> None:
    import cv2

    crop = np.full((SIZE, SIZE, 3), (150, 170, 205), np.uint8)  # light skin, BGR
    crop[:40, :] = (40, 50, 70)  # hair across the top: ~256 x 40 px >> HAIR_MIN_AREA_MM2
    cv2.circle(crop, (128, 160), int(1.5 / MM_PER_PX), (40, 50, 70), -1)  # a 3 mm mole, same darkness
    skin = les.analysable_skin(FakeContext(crop))
    assert not skin[:40].any()
    assert not skin[40 + int(les.HAIR_MARGIN_MM / MM_PER_PX) - 1].any()  # grown by the margin
    assert skin[160, 128] and skin[200, 60]


def test_clipped_pixels_are_not_analysable() -> None:
    """Over-exposure saturates a channel and fakes pigment: clipped skin (and its blur) is left out."""
    crop = np.full((SIZE, SIZE, 3), (150, 170, 205), np.uint8)
    crop[100:140, 100:140] = (235, 245, 255)  # red channel saturated
    skin = les.analysable_skin(FakeContext(crop))
    assert not skin[100:140, 100:140].any()
    assert not skin[99, 120]  # within CLIPPED_MARGIN_MM
    assert skin[60, 60] and skin[200, 200]
