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


def test_absolute_stats_p90_and_share_within_one_finding() -> None:
    stats = er._absolute_stats([0] * 6 + [1, 1, 2, 4])
    assert stats == {"n": 10, "p90": pytest.approx(2.2), "within_one": 0.8}
    assert er._absolute_stats([]) == {"n": 0, "p90": None, "within_one": None}


def _finding(family: str, score: float, x: float, kind: int = 0) -> dict:
    return {"family": family, "type": kind, "score": score, "box": (x, 10.0, x + 6.0, 16.0)}


THRESHOLDS = {"acne": 0.2, "acne_mark": 0.5, "speckle": 0.2, "mole": 0.2}


def test_scaled_count_change_shrinks_a_matched_findings_score_change() -> None:
    base, var = [_finding("mole", 0.3, 10)], [_finding("mole", 0.1, 11)]
    moved = np.array([f["box"] for f in base], float)
    assert er.scaled_count_change(base, var, moved, "mole", THRESHOLDS, 1.0) == 1.0  # 0.3 -> 0.1: gone
    # a quarter of the logit change: logit 0.3 = -0.85, logit 0.1 = -2.20 -> -1.18, score 0.23, still counted
    assert er.scaled_count_change(base, var, moved, "mole", THRESHOLDS, 0.25) == 0.0


def test_scaled_count_change_leaves_unmatched_findings_and_uses_each_findings_threshold() -> None:
    base = [_finding("acne", 0.3, 10), _finding("acne", 0.45, 60, kind=1)]  # a mark under its own 0.5 threshold
    var = [_finding("acne", 0.3, 10), _finding("acne", 0.45, 60, kind=1), _finding("acne", 0.9, 120)]
    moved = np.array([f["box"] for f in base], float)
    for factor in (1.0, 0.25):  # the new finding has nothing to be matched with: it counts whatever the factor
        assert er.scaled_count_change(base, var, moved, "acne", THRESHOLDS, factor) == 0.5
    assert er.scaled_count_change(base, var, moved, "mole", THRESHOLDS, 1.0) is None


def test_scaled_count_change_matches_within_one_operating_point() -> None:
    """A whitehead and an acne mark at one place: each is paired with its own kind in the other rendering, so
    freezing the scores (factor 0) keeps the count, whichever is nearer."""
    base = [_finding("acne", 0.3, 10), _finding("acne", 0.1, 11, kind=1)]
    var = [_finding("acne", 0.3, 11), _finding("acne", 0.1, 10, kind=1)]  # each nearer the other kind
    moved = np.array([f["box"] for f in base], float)
    assert er.scaled_count_change(base, var, moved, "acne", THRESHOLDS, 0.0) == 0.0
