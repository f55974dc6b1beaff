"""The demo frame (scripts/make_demo.py) is a clean picture: the portrait on a neutral wall, not its
border pixels smeared sideways to the frame's edges (issue 14)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import make_demo  # noqa: E402


def test_demo_frame_has_a_plain_wall_and_no_smeared_border(astronaut_bgr) -> None:
    frame = make_demo.demo_frame(astronaut_bgr[5:265, 95:355]).astype(np.float32)
    assert frame.shape[1::-1] == make_demo.DEMO_SIZE
    x0 = (make_demo.DEMO_SIZE[0] - make_demo.DEMO_HEAD_SIDE) // 2
    for wall in (frame[:, : x0 - 1], frame[:, x0 + make_demo.DEMO_HEAD_SIDE + 1 :], frame[-8:]):
        assert np.abs(wall - np.array(make_demo.BACKGROUND_BGR)).max() <= 1.0  # one plain colour
    # a replicated border repeats the photo's edge column: rows of the margin would differ by the photo's
    # own colours; here every row of the margin is the same wall
    assert frame[:, : x0 - 1].std(axis=0).max() < 0.5
    centre = frame[360, 480]
    assert np.abs(centre - np.array(make_demo.BACKGROUND_BGR)).max() > 10  # the photo is there
