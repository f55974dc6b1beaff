"""The capture-quality gate: is this frame good enough to analyse, and if not, what should the person do?

Checks, in the order a person can fix them (the first failing one is reported): a face at all,
its size ("come closer"), head pose ("turn to face the camera"), exposure ("too dark" / "too
bright"), stillness over `still_frames` frames and sharpness ("hold still"). Every threshold is a
named field of `GateConfig` (edge/config.py). Measured on the lores frame: cheap enough for every frame.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

from edge.config import GateConfig
from edge.face.image_quality import EXPOSURE_INSET, exposure, face_region, sharpness
from edge.face.pose import HeadPose

MIN_MESH_PRESENCE = 0.5


class GateReason(StrEnum):
    NO_FACE = "no_face"
    TOO_SMALL = "too_small"
    POSE = "pose"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    MOVING = "moving"
    BLURRY = "blurry"
    READY = "ready"


GUIDANCE: dict[GateReason, str] = {
    GateReason.NO_FACE: "no face",
    GateReason.TOO_SMALL: "come closer",
    GateReason.POSE: "turn to face the camera",
    GateReason.TOO_DARK: "too dark",
    GateReason.TOO_BRIGHT: "too bright",
    GateReason.MOVING: "hold still",
    GateReason.BLURRY: "hold still",
    GateReason.READY: "ready",
}


@dataclass(frozen=True)
class GateResult:
    reason: GateReason
    measures: dict[str, float] = field(default_factory=dict)

    @property
    def guidance(self) -> str:
        return GUIDANCE[self.reason]

    @property
    def ready(self) -> bool:
        return self.reason is GateReason.READY


class QualityGate:
    """Stateful only in its stillness memory: call `evaluate` once per tracked frame, `reset` on a new face."""

    def __init__(self, cfg: GateConfig) -> None:
        self.cfg = cfg
        self._history: deque[np.ndarray] = deque(maxlen=2)
        self.still_count = 0

    def reset(self) -> None:
        self._history.clear()
        self.still_count = 0

    def _update_stillness(self, box: np.ndarray) -> float:
        """Motion since the last frame as a share of the face width: the larger of the centre's shift
        and the change of width (a face walking up to the camera is not still either)."""
        state = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0]], dtype=np.float64)
        width = max(float(state[2]), 1.0)
        motion = 0.0
        if self._history:
            prev = self._history[-1]
            motion = max(float(np.linalg.norm(state[:2] - prev[:2])), abs(float(state[2] - prev[2]))) / width
        self._history.append(state)
        self.still_count = self.still_count + 1 if motion <= self.cfg.max_motion_fraction else 0
        return motion

    def evaluate(self, lores_bgr: np.ndarray, box: np.ndarray | None,
                 pose: HeadPose | Callable[[], HeadPose | None] | None) -> GateResult:
        """The first failing check for the face in `box` (lores px) with its head `pose` (or a callable
        computing it: the mesh then runs only for faces big enough to need it)."""
        cfg = self.cfg
        if box is None:
            self.reset()
            return GateResult(GateReason.NO_FACE)
        motion = self._update_stillness(box)
        face_fraction = float(box[2] - box[0]) / lores_bgr.shape[1]
        m: dict[str, float] = {"face_fraction": round(face_fraction, 4), "motion": round(motion, 4),
                               "still_frames": float(self.still_count)}
        if face_fraction < cfg.min_face_fraction:
            return GateResult(GateReason.TOO_SMALL, m)
        if callable(pose):
            pose = pose()
        if pose is not None:
            m.update(yaw=round(pose.yaw_deg, 1), pitch=round(pose.pitch_deg, 1), roll=round(pose.roll_deg, 1))
        if pose is None or pose.presence < MIN_MESH_PRESENCE or abs(pose.yaw_deg) > cfg.max_abs_yaw_deg \
                or abs(pose.pitch_deg) > cfg.max_abs_pitch_deg or abs(pose.roll_deg) > cfg.max_abs_roll_deg:
            return GateResult(GateReason.POSE, m)
        gray = cv2.cvtColor(face_region(lores_bgr, box), cv2.COLOR_BGR2GRAY)
        whole = np.array([0.0, 0.0, gray.shape[1], gray.shape[0]])
        mean, dark, bright = exposure(face_region(gray, whole, EXPOSURE_INSET))
        m.update(brightness=round(mean, 1), dark_clipped=round(dark, 4), bright_clipped=round(bright, 4))
        if mean < cfg.min_brightness or dark > cfg.max_clipped_fraction:
            return GateResult(GateReason.TOO_DARK, m)
        if mean > cfg.max_brightness or bright > cfg.max_clipped_fraction:
            return GateResult(GateReason.TOO_BRIGHT, m)
        if self.still_count < cfg.still_frames:
            return GateResult(GateReason.MOVING, m)
        m["sharpness"] = round(sharpness(gray), 1)
        if m["sharpness"] < cfg.min_sharpness:
            return GateResult(GateReason.BLURRY, m)
        return GateResult(GateReason.READY, m)

