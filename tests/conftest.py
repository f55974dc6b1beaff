"""Shared fixtures: settings, one Engine per test session, the real test photographs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.config import Settings, load_settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def engine(settings: Settings):
    from edge.pipeline import Engine

    eng = Engine.from_settings(settings)
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def astronaut_bgr() -> np.ndarray:
    """scikit-image's `astronaut`: a public-domain portrait (NASA), 512x512."""
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture(scope="session")
def coffee_bgr() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR)
