"""The capture-quality gate on real frames (the astronaut portrait) with known boxes and poses."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.config import GateConfig
from edge.face.image_quality import exposure, sharpness
from edge.face.pose import HeadPose
from edge.kiosk.quality import GUIDANCE, GateReason, QualityGate
from tests.kiosk_media import place_face, portrait

LORES = (640, 480)
SIDE = 480  # portrait side in the lores frame: the face box below is ~0.29 of its width
FRONTAL = HeadPose(yaw_deg=-1.0, pitch_deg=0.5, roll_deg=3.0, presence=0.99)
UI_GUIDANCE = {"come closer", "too dark", "too bright", "hold still", "turn to face the camera", "no face", "ready"}


@pytest.fixture(scope="module")
def face_img(astronaut_bgr: np.ndarray) -> np.ndarray:
    return portrait(astronaut_bgr)


def frame_and_box(face_img: np.ndarray, side: int = SIDE, gain: float = 1.0, dx: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A lores frame and the face box inside it (the portrait's face is its central ~37%)."""
    cx, cy = LORES[0] / 2 + dx, LORES[1] / 2
    frame = place_face(face_img, LORES, side, (cx, cy), gain=gain)
    half = side * 0.19
    box = np.array([cx - half, cy - side * 0.22, cx + half, cy + side * 0.16])
    return frame, box


def settle(gate: QualityGate, frame: np.ndarray, box: np.ndarray, pose: HeadPose = FRONTAL, n: int | None = None):
    result = None
    for _ in range(n or gate.cfg.still_frames + 1):
        result = gate.evaluate(frame, box, pose)
    return result


def test_every_reason_has_a_guidance_the_ui_knows() -> None:
    assert set(GUIDANCE) == set(GateReason)
    assert set(GUIDANCE.values()) <= UI_GUIDANCE


def test_no_face() -> None:
    result = QualityGate(GateConfig()).evaluate(np.zeros((480, 640, 3), np.uint8), None, None)
    assert (result.reason, result.guidance) == (GateReason.NO_FACE, "no face")


def test_small_face_asks_to_come_closer_without_running_the_mesh(face_img: np.ndarray) -> None:
    frame, box = frame_and_box(face_img, side=150)
    calls = []
    result = QualityGate(GateConfig()).evaluate(frame, box, lambda: calls.append(1) or FRONTAL)
    assert result.reason is GateReason.TOO_SMALL and result.guidance == "come closer"
    assert calls == []  # the pose callable is only paid for when the size check passes
    assert result.measures["face_fraction"] < GateConfig().min_face_fraction


def test_threshold_comes_from_config(face_img: np.ndarray) -> None:
    frame, box = frame_and_box(face_img)
    fraction = (box[2] - box[0]) / LORES[0]
    assert settle(QualityGate(GateConfig(min_face_fraction=fraction - 0.01)), frame, box).ready
    assert settle(QualityGate(GateConfig(min_face_fraction=fraction + 0.01)), frame, box).reason is GateReason.TOO_SMALL


@pytest.mark.parametrize("pose", [
    HeadPose(30.0, 0.0, 0.0, 0.99), HeadPose(-30.0, 0.0, 0.0, 0.99), HeadPose(0.0, 25.0, 0.0, 0.99),
    HeadPose(0.0, 0.0, -20.0, 0.99), HeadPose(0.0, 0.0, 0.0, 0.1),
])
def test_pose_out_of_range(face_img: np.ndarray, pose: HeadPose) -> None:
    frame, box = frame_and_box(face_img)
    result = settle(QualityGate(GateConfig()), frame, box, pose)
    assert result.reason is GateReason.POSE and result.guidance == "turn to face the camera"


def test_pose_within_range_passes(face_img: np.ndarray) -> None:
    frame, box = frame_and_box(face_img)
    cfg = GateConfig()
    pose = HeadPose(cfg.max_abs_yaw_deg - 1, -(cfg.max_abs_pitch_deg - 1), cfg.max_abs_roll_deg - 1, 0.9)
    assert settle(QualityGate(cfg), frame, box, pose).ready


def test_dark_and_bright(face_img: np.ndarray) -> None:
    dark, box = frame_and_box(face_img, gain=0.3)
    result = settle(QualityGate(GateConfig()), dark, box)
    assert result.reason is GateReason.TOO_DARK and result.guidance == "too dark"
    assert result.measures["brightness"] < GateConfig().min_brightness
    bright, box = frame_and_box(face_img, gain=1.8)
    assert settle(QualityGate(GateConfig()), bright, box).reason is GateReason.TOO_BRIGHT


def test_clipped_highlights_count_even_with_a_good_mean(face_img: np.ndarray) -> None:
    frame, box = frame_and_box(face_img)
    x0, y0, x1, y1 = (int(v) for v in box)
    h = y1 - y0
    frame[y0 + h // 3 : y0 + h // 2, x0 + (x1 - x0) // 3 : x1 - (x1 - x0) // 3] = 255  # specular glare
    result = settle(QualityGate(GateConfig()), frame, box)
    assert result.reason is GateReason.TOO_BRIGHT
    assert result.measures["brightness"] < GateConfig().max_brightness
    assert result.measures["bright_clipped"] > GateConfig().max_clipped_fraction


def test_stillness_over_n_frames(face_img: np.ndarray) -> None:
    cfg = GateConfig(still_frames=5)
    gate = QualityGate(cfg)
    frame, box = frame_and_box(face_img)
    reasons = [gate.evaluate(frame, box, FRONTAL).reason for _ in range(cfg.still_frames + 2)]
    assert reasons[: cfg.still_frames - 1] == [GateReason.MOVING] * (cfg.still_frames - 1)
    assert reasons[-1] is GateReason.READY
    moved = box + np.array([20.0, 0, 20.0, 0])  # ~0.18 of the face width in one frame
    result = gate.evaluate(frame, moved, FRONTAL)
    assert result.reason is GateReason.MOVING and result.guidance == "hold still"
    grown = moved + np.array([-10.0, -10, 10, 10])  # same centre, closer: not still either
    assert gate.evaluate(frame, grown, FRONTAL).reason is GateReason.MOVING


def test_blur_asks_to_hold_still(face_img: np.ndarray) -> None:
    frame, box = frame_and_box(face_img)
    blurred = cv2.GaussianBlur(frame, (0, 0), 4)
    result = settle(QualityGate(GateConfig()), blurred, box)
    assert result.reason is GateReason.BLURRY and result.guidance == "hold still"
    assert result.measures["sharpness"] < GateConfig().min_sharpness
    assert settle(QualityGate(GateConfig()), frame, box).measures["sharpness"] > GateConfig().min_sharpness


def test_sharpness_measures_blur_not_distance(face_img: np.ndarray) -> None:
    gray = cv2.cvtColor(face_img[60:160, 80:180], cv2.COLOR_BGR2GRAY)
    near = cv2.resize(gray, (300, 300), interpolation=cv2.INTER_CUBIC)
    far = cv2.resize(gray, (150, 150), interpolation=cv2.INTER_AREA)
    assert sharpness(near) == pytest.approx(sharpness(far), rel=0.5)
    assert sharpness(cv2.GaussianBlur(near, (0, 0), 5)) < 0.3 * sharpness(near)


def test_exposure_measures() -> None:
    patch = np.full((10, 10), 128, np.uint8)
    patch[0, :] = 0
    patch[1, :5] = 255
    mean, dark, bright = exposure(patch)
    assert mean == pytest.approx(patch.mean())
    assert (dark, bright) == (pytest.approx(0.1), pytest.approx(0.05))


def test_reset_forgets_stillness(face_img: np.ndarray) -> None:
    gate = QualityGate(GateConfig())
    frame, box = frame_and_box(face_img)
    assert settle(gate, frame, box).ready
    gate.evaluate(frame, None, None)  # the face left
    assert gate.evaluate(frame, box, FRONTAL).reason is GateReason.MOVING
