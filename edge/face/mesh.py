"""468-point face mesh (MediaPipe face_landmark.tflite) on a rotation-aligned crop.

ROI as in MediaPipe: a square around the face box, 1.5x its size, rotated so the eyes are level
(roll from the eye keypoints). The mesh is run once on the detection ROI, then once more on the ROI
computed from the first mesh (as MediaPipe's tracking does), which centres and levels the crop better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edge.face.detector import Detection
from edge.runtime.interpreter import TFLiteModel

# Mesh indices used for the ROI and roll (MediaPipe topology).
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
RIGHT_EYE_CONTOUR = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE_CONTOUR = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)

ROI_SCALE = 1.5  # MediaPipe's face ROI is 1.5x the face box (room for the whole mesh)
# The half-turned crop wins only with a clearly higher presence logit: on upright faces the right way
# scores ~+27 and the turned one ~+2..6; on upside-down faces the reverse (measured on rotated portraits).
FLIP_LOGIT_MARGIN = 1.0
UPRIGHT_LOGIT = 15.0  # a first mesh this sure (upright faces measured 27-29) skips the half-turned try


@dataclass
class MeshResult:
    landmarks: np.ndarray  # (468, 3) float32, image px (z in the same px scale, relative depth)
    presence: float  # face presence probability 0..1
    roll_deg: float  # clockwise roll of the eye line, degrees


def roll_degrees(right_eye: np.ndarray, left_eye: np.ndarray) -> float:
    """Clockwise roll (y points down) of the line from the person's right eye to their left eye.

    Upright face: the right eye is at smaller x, roll 0. Face turned clockwise as you look at the
    image: the left eye drops (larger y), roll > 0. Range [-180, 180].
    """
    dx, dy = float(left_eye[0] - right_eye[0]), float(left_eye[1] - right_eye[1])
    return math.degrees(math.atan2(dy, dx))


def roi_matrix(center: tuple[float, float], side: float, roll_deg: float, out_size: int) -> np.ndarray:
    """2x3 affine taking image px to a `out_size`² crop of a `side`-px square around `center`,
    rotated by -roll so the face comes out upright."""
    m = cv2.getRotationMatrix2D(center, roll_deg, out_size / side)
    m[0, 2] += out_size / 2.0 - center[0]
    m[1, 2] += out_size / 2.0 - center[1]
    return m


def invert_affine(m: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(m)


class FaceMesh:
    def __init__(self, model: TFLiteModel) -> None:
        self.model = model
        shape = model.input.shape
        self.size = int(shape[1])
        outs = sorted(model.outputs, key=lambda s: int(np.prod(s.shape)))
        self.presence_name, self.landmark_name = outs[0].name, outs[-1].name
        if int(np.prod(model.output(self.landmark_name).shape)) != 468 * 3:
            raise ValueError("face landmark model must output 468 x 3 values")

    def _run(self, rgb: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, float]:
        """Landmarks in image px and the presence *logit* for the crop `m` cuts out of `rgb`."""
        crop = cv2.warpAffine(rgb, m, (self.size, self.size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        out = self.model.run(crop.astype(np.float32)[None] / 255.0)
        pts = out[self.landmark_name].reshape(468, 3).astype(np.float64)
        logit = float(np.clip(out[self.presence_name].reshape(-1)[0], -60, 60))
        inv = invert_affine(m)
        xy = pts[:, :2] @ inv[:, :2].T + inv[:, 2]
        scale = math.hypot(inv[0, 0], inv[1, 0])
        landmarks = np.column_stack([xy, pts[:, 2] * scale]).astype(np.float32)
        return landmarks, logit

    def detect(self, rgb: np.ndarray, detection: Detection) -> MeshResult:
        kp = detection.keypoints
        roll = roll_degrees(kp[0], kp[1])
        cx, cy = (detection.box[0] + detection.box[2]) / 2, (detection.box[1] + detection.box[3]) / 2
        side = max(detection.width, detection.height) * ROI_SCALE
        best: tuple[float, np.ndarray] | None = None
        # BlazeFace's eye keypoints are unreliable on faces turned past ~90 deg (upside-down photos), so
        # the crop is also tried turned half round; the mesh's presence logit tells which is upright.
        for candidate in (roll, roll + 180.0):
            landmarks, _ = self._run(rgb, roi_matrix((float(cx), float(cy)), float(side), candidate, self.size))
            # Second pass on the ROI from the mesh itself (rotation from the outer eye corners).
            landmarks, logit = self._run(rgb, self.roi_from_landmarks(landmarks))
            if best is None or logit > best[0] + FLIP_LOGIT_MARGIN:
                best = (logit, landmarks)
            if best[0] >= UPRIGHT_LOGIT:
                break  # clearly an upright face mesh: no need to try the other way round
        logit, landmarks = best
        right = landmarks[list(RIGHT_EYE_CONTOUR), :2].mean(0)
        left = landmarks[list(LEFT_EYE_CONTOUR), :2].mean(0)
        return MeshResult(landmarks=landmarks, presence=1.0 / (1.0 + math.exp(-logit)),
                          roll_deg=roll_degrees(right, left))

    def roi_from_landmarks(self, landmarks: np.ndarray) -> np.ndarray:
        roll = roll_degrees(landmarks[RIGHT_EYE_OUTER], landmarks[LEFT_EYE_OUTER])
        # Box of the landmarks in the face's own (derotated) frame.
        center = landmarks[:, :2].mean(0)
        rot = cv2.getRotationMatrix2D((float(center[0]), float(center[1])), roll, 1.0)
        upright = landmarks[:, :2] @ rot[:, :2].T + rot[:, 2]
        lo, hi = upright.min(0), upright.max(0)
        mid_upright = (lo + hi) / 2
        inv = invert_affine(rot)
        mid = inv[:, :2] @ mid_upright + inv[:, 2]
        side = float(max(hi - lo)) * ROI_SCALE
        return roi_matrix((float(mid[0]), float(mid[1])), side, roll, self.size)
