"""Live face tracking on the low-res stream: BlazeFace (short range) every frame, a smoothed box, and
head pose from the face mesh for the capture-quality gate.

Sessions: a face that stays in view (missing for at most `max_missed` frames in a row) is one
session; auto-capture fires at most once per session, so a person is analysed once per visit, not
once per second.

Head pose: edge/face/pose.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from edge.face.detector import Detection, DetectorOptions, FaceDetector
from edge.face.mesh import FaceMesh
from edge.face.pose import HeadPose, head_pose
from edge.runtime.manifest import ModelStore

DEFAULT_SMOOTHING = 0.5  # weight of the new box in the moving average (1 = no smoothing)
DEFAULT_MAX_MISSED = 5  # frames a face may vanish (blink of the detector) and still be the same session
NEW_FACE_IOU = 0.2  # a detection overlapping the track less than this is somebody else: new session
MIN_TRACK_SCORE = 0.5


@dataclass
class Track:
    """The tracked face in lores pixels."""

    box: np.ndarray  # smoothed (x0, y0, x1, y1)
    detection: Detection  # this frame's raw detection
    session: int
    age: int  # frames since the session started

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def center(self) -> np.ndarray:
        return np.array([(self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2], dtype=np.float64)

    def as_dict(self) -> dict[str, float]:
        x0, y0, x1, y1 = (float(v) for v in self.box)
        return {"left": round(x0, 1), "top": round(y0, 1), "width": round(x1 - x0, 1), "height": round(y1 - y0, 1)}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(x1 - x0, 0.0) * max(y1 - y0, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass
class FaceTracker:
    """BlazeFace short range on each lores frame; keeps the largest face as the tracked one."""

    detector: FaceDetector
    smoothing: float = DEFAULT_SMOOTHING
    max_missed: int = DEFAULT_MAX_MISSED
    track: Track | None = None
    missed: int = 0
    sessions: int = 0
    last_detect_s: float = 0.0
    _mesh: FaceMesh | None = field(default=None, repr=False)

    @classmethod
    def from_store(cls, store: ModelStore, min_score: float = MIN_TRACK_SCORE, **kwargs: object) -> FaceTracker:
        detector = FaceDetector.create_from_options(store, DetectorOptions(mode="short", min_score=min_score))
        tracker = cls(detector=detector, **kwargs)  # type: ignore[arg-type]
        tracker._mesh = FaceMesh(store.get("face_landmark"))
        detector.warm_up()
        return tracker

    def update(self, lores_bgr: np.ndarray) -> Track | None:
        """The tracked face in this frame, or None when none is visible in it."""
        t0 = time.perf_counter()
        found = self.detector.detect(lores_bgr, max_faces=1)
        self.last_detect_s = time.perf_counter() - t0
        if not found:
            self.missed += 1
            if self.missed > self.max_missed:
                self.track = None  # the session ends; the next face starts a new one
            return None
        det = found[0]
        self.missed = 0
        if self.track is None or _iou(self.track.box, det.box) < NEW_FACE_IOU:
            self.sessions += 1
            self.track = Track(box=det.box.astype(np.float64), detection=det, session=self.sessions, age=0)
        else:
            a = self.smoothing
            box = a * det.box.astype(np.float64) + (1.0 - a) * self.track.box
            self.track = Track(box=box, detection=det, session=self.track.session, age=self.track.age + 1)
        return self.track

    def pose(self, lores_bgr: np.ndarray, track: Track) -> HeadPose:
        """Head pose of the tracked face from the face mesh on the lores frame."""
        if self._mesh is None:
            raise RuntimeError("FaceTracker.pose needs a mesh: build the tracker with from_store()")
        rgb = cv2.cvtColor(lores_bgr, cv2.COLOR_BGR2RGB)
        mesh = self._mesh.detect(rgb, track.detection)
        return head_pose(mesh.landmarks, mesh.roll_deg, mesh.presence)
