"""Fixtures shared by the unit tests of the lines-and-eyes fields."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.lines_eyes_scenes import portrait_context, portrait_image


@pytest.fixture(scope="session")
def portrait() -> np.ndarray:
    """The test portrait upscaled so the face is ~500 px wide (see lines_eyes_scenes)."""
    return portrait_image()


@pytest.fixture(scope="session")
def portrait_ctx(engine):
    return portrait_context(engine)
