"""Test media for the kiosk daemon: the real astronaut portrait placed, scaled, rotated and darkened in
camera-like frames, and a phase-scripted MJPG video for the replay source."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

BACKGROUND = 96
# Head-and-shoulders crop of scikit-image's astronaut (512x512): the face is ~37% of its width.
PORTRAIT_CROP = (slice(5, 265), slice(95, 355))


def portrait(astronaut_bgr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(astronaut_bgr[PORTRAIT_CROP])


def place_face(portrait_bgr: np.ndarray, size: tuple[int, int], side: int, center: tuple[float, float],
               *, angle: float = 0.0, gain: float = 1.0) -> np.ndarray:
    """A size=(w, h) frame: the portrait scaled to `side` px, rotated by `angle` degrees (counter-
    clockwise), centred at `center`, brightness multiplied by `gain`."""
    w, h = size
    frame = np.full((h, w, 3), BACKGROUND, np.uint8)
    scale = side / portrait_bgr.shape[1]
    pc = (portrait_bgr.shape[1] / 2, portrait_bgr.shape[0] / 2)
    m = cv2.getRotationMatrix2D(pc, angle, scale)
    m[0, 2] += center[0] - pc[0]
    m[1, 2] += center[1] - pc[1]
    frame = cv2.warpAffine(portrait_bgr, m, (w, h), dst=frame, flags=cv2.INTER_AREA,
                           borderMode=cv2.BORDER_TRANSPARENT)
    if gain != 1.0:
        frame = np.clip(frame.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    return frame


@dataclass(frozen=True)
class Phase:
    name: str
    frames: int
    expect: str | None  # the gate reason expected once the phase has settled (None: not checked)


# (W, H) of the replayed "camera": larger than lores, so lores->main scaling is exercised.
VIDEO_SIZE = (960, 720)
BIG_SIDE, SMALL_SIDE = 700, 420
PHASES = (
    Phase("empty", 12, "no_face"),
    Phase("small_moving", 20, "too_small"),
    Phase("scaling_up", 10, None),
    Phase("big_moving", 24, "moving"),
    Phase("turned", 20, "pose"),
    Phase("dark", 20, "too_dark"),
    Phase("good", 40, "ready"),
)


def phase_frame(portrait_bgr: np.ndarray, phase: str, i: int, n: int) -> np.ndarray:
    w, h = VIDEO_SIZE
    mid = (w / 2, h / 2)
    if phase == "empty":
        return np.full((h, w, 3), BACKGROUND, np.uint8)
    if phase == "small_moving":
        return place_face(portrait_bgr, VIDEO_SIZE, SMALL_SIDE, (w / 2 - 150 + 300 * i / n, h / 2))
    if phase == "scaling_up":
        return place_face(portrait_bgr, VIDEO_SIZE, int(SMALL_SIDE + (BIG_SIDE - SMALL_SIDE) * i / n), mid)
    if phase == "big_moving":  # side to side, ~60 px per frame
        return place_face(portrait_bgr, VIDEO_SIZE, BIG_SIDE, (w / 2 + 90 * math.sin(i * 2 * math.pi / 6), h / 2))
    if phase == "turned":
        return place_face(portrait_bgr, VIDEO_SIZE, BIG_SIDE, mid, angle=35)
    if phase == "dark":
        return place_face(portrait_bgr, VIDEO_SIZE, BIG_SIDE, mid, gain=0.3)
    return place_face(portrait_bgr, VIDEO_SIZE, BIG_SIDE, mid)


def write_phase_video(portrait_bgr: np.ndarray, path: Path, fps: float = 25.0) -> list[str]:
    """Write the scripted video (MJPG .avi); returns the phase name of every frame index."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, VIDEO_SIZE)
    assert writer.isOpened(), "OpenCV cannot write MJPG video"
    labels: list[str] = []
    for phase in PHASES:
        for i in range(phase.frames):
            writer.write(phase_frame(portrait_bgr, phase.name, i, phase.frames))
            labels.append(phase.name)
    writer.release()
    return labels
