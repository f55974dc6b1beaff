"""The lesion trainer's two-view batches (scripts/train_lesions.py, consistency loss): both views of a crop
are the same window of the same framing, the second at most PAIR_SHIFT_PX off and re-exposed, with its
boxes moved alike; an epoch keeps its number of steps. Pure NumPy/OpenCV: TensorFlow is only imported
when the trainer trains."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

import train_lesions as tl  # noqa: E402

from edge.analysis import lesion_net as ln  # noqa: E402


def _crop(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.full((ln.INPUT, ln.INPUT, 3), (150, 120, 100), np.uint8)
    noise = rng.normal(0, 12, base.shape)  # texture, so that a framing offset shows in the pixels
    return np.clip(base + noise, 0, 255).astype(np.uint8)


BOXES = np.array([[ln.MOLE, 150, 150, 160, 160], [ln.SPOT, 60, 200, 66, 206]], np.float32)


@pytest.mark.parametrize("seed", range(8))
def test_pair_views_share_the_framing_within_the_pair_shift(seed: int) -> None:
    (a, boxes_a), (b, boxes_b) = tl.augment(_crop(), BOXES, np.random.default_rng(seed), pair=True)
    assert a.shape == b.shape == (ln.INPUT, ln.INPUT, 3) and a.dtype == b.dtype == np.uint8
    assert (boxes_a[:, 0] == boxes_b[:, 0]).all()
    moved = np.abs(boxes_b[:, 1:] - boxes_a[:, 1:])
    assert moved.max() <= tl.PAIR_SHIFT_PX + 1e-4  # same box sizes, centres at most the pair shift apart
    np.testing.assert_allclose(boxes_b[:, 3] - boxes_b[:, 1], boxes_a[:, 3] - boxes_a[:, 1], atol=1e-4)
    assert not np.array_equal(a, b)  # re-exposed (and re-framed): a second, different photograph


def test_one_view_draws_what_the_pair_draws_first() -> None:
    one = tl.augment(_crop(), BOXES, np.random.default_rng(3))
    two = tl.augment(_crop(), BOXES, np.random.default_rng(3), pair=True)
    assert len(one) == 1 and len(two) == 2
    np.testing.assert_array_equal(one[0][0], two[0][0])
    np.testing.assert_array_equal(one[0][1], two[0][1])


def test_paired_batches_put_the_views_side_by_side_and_keep_the_step_count() -> None:
    n, batch = 10, 4
    data = {"crops": np.stack([_crop(i) for i in range(n)]),
            "boxes": np.array([[i, *BOXES[0]] for i in range(n)], np.float32)}
    single = list(tl.batches(data, batch, epoch=0))
    paired = list(tl.batches(data, batch, epoch=0, pair=True))
    assert len(single) == len(paired) == n // batch
    seen = 0
    for x, heat, size, mask in paired:
        assert x.shape == (batch, tl.TILE, tl.TILE, 3)
        assert heat.shape[0] == size.shape[0] == mask.shape[0] == batch
        for k in range(0, batch, 2):  # views 2k and 2k+1: one crop, one window, the lesions in the same cells
            assert mask[k].sum() == mask[k + 1].sum()
            if not mask[k].sum():
                continue  # a window without a lesion in it
            ya, xa = np.argwhere(heat[k].max(-1) >= 0.999)[0]
            yb, xb = np.argwhere(heat[k + 1].max(-1) >= 0.999)[0]
            assert abs(int(ya) - int(yb)) <= 1 and abs(int(xa) - int(xb)) <= 1
            seen += 1
    assert seen  # at least one window held a lesion


def test_second_view_noise_is_sensor_noise_of_the_asked_sd() -> None:
    img = np.full((ln.INPUT, ln.INPUT, 3), 120, np.uint8)
    m = np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    args = (img, np.zeros((0, 5)), m, 1.0, 1.0, np.ones(3), 1.0, 0.0, 0)
    clean, _ = tl._render(*args)
    noisy, _ = tl._render(*args, 2.0, np.random.default_rng(0))
    diff = noisy.astype(float) - clean.astype(float)
    assert abs(diff.std() - 2.0) < 0.1 and abs(diff.mean()) < 0.1
    assert np.array_equal(clean, tl._render(*args, 0.0, np.random.default_rng(0))[0])  # no noise asked: unchanged
