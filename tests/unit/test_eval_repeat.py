"""scripts/eval_repeat.py's renderings and count change (the real-data run is in tests/integration)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import eval_repeat as er  # noqa: E402


def test_dither_moves_every_pixel_one_grey_level_and_is_seeded() -> None:
    img = np.random.default_rng(1).integers(1, 255, (40, 30, 3)).astype(np.uint8)  # no pixel at 0 or 255
    out = er._dither(img, seed=7)
    step = out.astype(int) - img.astype(int)
    assert set(np.unique(step)) == {-1, 1}
    assert 0.4 < (step > 0).mean() < 0.6  # up and down alike
    assert np.array_equal(out, er._dither(img, seed=7))
    assert not np.array_equal(out, er._dither(img, seed=8))


def test_dither_stays_within_the_grey_levels() -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    img[4:] = 255
    out = er._dither(img, seed=0)
    assert out.dtype == np.uint8
    assert set(np.unique(out[:4])) <= {0, 1} and set(np.unique(out[4:])) <= {254, 255}


@pytest.mark.parametrize(("n0", "n1", "change"), [(0, 0, None), (1, 0, 1.0), (0, 2, 1.0), (2, 1, 0.5), (4, 4, 0.0),
                                                  (3, 4, 0.25)])
def test_count_change(n0: int, n1: int, change: float | None) -> None:
    assert er.count_change(n0, n1) == change


def test_the_floor_is_not_one_of_the_pooled_variants() -> None:
    assert er.FLOOR not in er.VARIANTS and len(er.VARIANTS) == 7
