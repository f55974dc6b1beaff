"""Shared scenes for the wrinkle and eyesattr tests: the eval's test portrait (face ~500 px wide),
made once per session (cached)."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

import eval_lines_eyes as ev  # noqa: E402


@lru_cache(maxsize=1)
def portrait_image() -> np.ndarray:
    img = ev.test_portrait()
    img.setflags(write=False)
    return img


def portrait_context(engine):
    contexts = engine.face_contexts(portrait_image())
    assert contexts, "the test portrait must have a face"
    return contexts[0]
