"""Head pose from the face mesh.

Head pose (yaw, pitch) comes from the mesh's own 3D landmarks: MediaPipe's z is depth in the same
pixel scale as x and y, so the tilt of the eye-corner line out of the image plane is the yaw and the
tilt of the forehead-chin line is the pitch. Cheaper than solvePnP against a generic head model (no
camera intrinsics to guess) and good to a few degrees within the +-30 degrees the gate cares about.
Roll is the mesh's eye-line angle (the same `degree` the API reports).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Mesh indices (MediaPipe topology): outer eye corners, forehead top, chin.
RIGHT_EYE_OUTER, LEFT_EYE_OUTER, FOREHEAD, CHIN = 33, 263, 10, 152
# The mesh's forehead-chin line is not parallel to the image plane for a frontal face: it leans
# ~11 degrees (chin farther than the forehead top, measured on frontal photos); that is pitch 0.
PITCH_OFFSET_DEG = 11.0


@dataclass(frozen=True)
class HeadPose:
    yaw_deg: float  # + : the person turns to their left (their nose moves to larger x in the image)
    pitch_deg: float  # + : chin up
    roll_deg: float  # clockwise roll of the eye line
    presence: float  # mesh face-presence probability


def head_pose(landmarks: np.ndarray, roll_deg: float, presence: float = 1.0) -> HeadPose:
    """Yaw and pitch from the mesh's 3D landmarks (see the module docstring)."""
    lm = landmarks.astype(np.float64)
    eye_line = lm[LEFT_EYE_OUTER] - lm[RIGHT_EYE_OUTER]
    midline = lm[CHIN] - lm[FOREHEAD]
    # Turning to the person's left brings their right eye nearer the camera (smaller z) than their left.
    yaw = math.degrees(math.atan2(eye_line[2], math.hypot(eye_line[0], eye_line[1])))
    # Chin up brings the chin nearer the camera than the forehead: the midline's z falls.
    pitch = PITCH_OFFSET_DEG - math.degrees(math.atan2(midline[2], math.hypot(midline[0], midline[1])))
    return HeadPose(yaw_deg=yaw, pitch_deg=pitch, roll_deg=roll_deg, presence=presence)
