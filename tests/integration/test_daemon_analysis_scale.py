"""The daemon analyses a large camera frame as the API analyses a large photo: downscaled (INTER_AREA) into
request.analysis_width x analysis_height, with every coordinate reported in the frame's own pixels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from daemon_harness import kiosk_settings

from edge.capture.base import Frame
from edge.kiosk.service import Job, KioskService
from edge.pipeline import Engine
from tests.kiosk_media import place_face, portrait


class SpyEngine:
    """The real engine, remembering the image size and to_original each analysis got."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.calls: list[tuple[tuple[int, ...], float]] = []

    def analyze(self, image: np.ndarray, fields: Any = (), max_faces: int = 1, **kwargs: Any) -> list[dict[str, Any]]:
        self.calls.append((image.shape, kwargs.get("to_original", 1.0)))
        return self.engine.analyze(image, fields, max_faces=max_faces, **kwargs)


def test_4k_frame_is_downscaled_and_reported_in_frame_pixels(tmp_path: Path, astronaut_bgr: np.ndarray) -> None:
    settings = kiosk_settings(tmp_path)
    size, side, center = (3840, 2160), 1300, (2300.0, 1150.0)
    main = place_face(portrait(astronaut_bgr), size, side, center)
    engine = SpyEngine(Engine.from_settings(settings))
    service = KioskService(settings, engine_factory=lambda: engine, fields=[])
    try:
        service._run_job(engine, Job("j1", "test", Frame(main=main, lores=main[::6, ::6], ts=0.0)), [])
    finally:
        engine.engine.close()
    assert len(engine.calls) == 1
    shape, to_original = engine.calls[0]
    assert shape[:2] == (1080, 1920) and to_original == 2.0
    record = service.result("j1")
    assert record is not None and record["outcome"] == "ok", record
    loc = record["envelope"]["result"]["face_list"][0]["location"]
    # The face's box is in the 3840x2160 frame's pixels: centred near where it was placed, and its
    # width a good part of the placed portrait's (in analysis px it would be half of this).
    cx, cy = loc["left"] + loc["width"] / 2, loc["top"] + loc["height"] / 2
    assert abs(cx - center[0]) < 0.1 * side and abs(cy - center[1]) < 0.25 * side, loc
    assert 0.3 * side < loc["width"] < 1.0 * side, loc
