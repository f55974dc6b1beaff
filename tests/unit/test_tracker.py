"""The live tracker: BlazeFace on lores frames follows the real face; smoothing, sessions, head pose."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from edge.config import Settings
from edge.face.detector import Detection
from edge.face.mesh import FaceMesh
from edge.face.pose import head_pose
from edge.kiosk.tracker import FaceTracker, Track
from edge.runtime.manifest import ModelStore
from tests.kiosk_media import place_face, portrait

LORES = (640, 480)
SIDE = 440


@pytest.fixture(scope="module")
def store(settings: Settings) -> ModelStore:
    rt = settings.runtime
    return ModelStore(rt.models_dir, rt.manifest, num_threads=1)


@pytest.fixture(scope="module")
def face_img(astronaut_bgr: np.ndarray) -> np.ndarray:
    return portrait(astronaut_bgr)


def test_follows_a_moving_face(store: ModelStore, face_img: np.ndarray) -> None:
    tracker = FaceTracker.from_store(store, smoothing=1.0)  # raw boxes: measure the detector itself
    first = place_face(face_img, LORES, SIDE, (200, 240))
    reference = tracker.update(first)
    assert reference is not None
    offset = reference.center - np.array([200, 240])  # where the face sits in the portrait
    for i in range(12):
        cx, cy = 200 + 20 * i, 240 + 5 * math.sin(i)
        track = tracker.update(place_face(face_img, LORES, SIDE, (cx, cy)))
        assert track is not None and track.session == 1
        error = np.linalg.norm(track.center - offset - np.array([cx, cy]))
        assert error < 0.05 * track.width, (i, error)


def test_box_scales_with_the_face(store: ModelStore, face_img: np.ndarray) -> None:
    tracker = FaceTracker.from_store(store, smoothing=1.0)
    widths, sides = [], (300, 400, 480)
    for side in sides:
        tracker.track = None  # one session per size: no smoothing across sizes
        track = tracker.update(place_face(face_img, LORES, side, (320, 240)))
        assert track is not None
        widths.append(track.width)
    assert widths == sorted(widths)
    shares = np.array(widths) / np.array(sides)
    assert shares.max() / shares.min() < 1.25  # the box stays roughly the same share of the portrait


def test_no_face_on_an_empty_frame(store: ModelStore) -> None:
    tracker = FaceTracker.from_store(store)
    assert tracker.update(np.full((480, 640, 3), 96, np.uint8)) is None


class ScriptedDetector:
    """Returns the scripted boxes in turn (None: no face that frame)."""

    def __init__(self, boxes: list[tuple[float, float, float, float] | None]) -> None:
        self.boxes = list(boxes)

    def detect(self, bgr: np.ndarray, max_faces: int = 1) -> list[Detection]:
        box = self.boxes.pop(0)
        if box is None:
            return []
        return [Detection(box=np.array(box, np.float32), keypoints=np.zeros((6, 2), np.float32), score=0.9)]


FRAME = np.zeros((480, 640, 3), np.uint8)


def run(tracker: FaceTracker, n: int) -> list[Track | None]:
    return [tracker.update(FRAME) for _ in range(n)]


def test_smoothing_damps_detector_jitter() -> None:
    jitter = [(200 + (6 if i % 2 else -6), 100, 400 + (6 if i % 2 else -6), 300) for i in range(20)]
    tracks = run(FaceTracker(ScriptedDetector(jitter), smoothing=0.4), 20)
    raw_x = np.array([b[0] for b in jitter[5:]])
    smooth_x = np.array([t.box[0] for t in tracks[5:] if t is not None])
    assert np.ptp(smooth_x) < 0.5 * np.ptp(raw_x)
    assert abs(smooth_x.mean() - 200) < 3


def test_sessions_survive_blinks_but_not_absences() -> None:
    face = (200, 100, 400, 300)
    script = [face] * 3 + [None] * 2 + [face] * 3 + [None] * 8 + [face] * 2
    tracker = FaceTracker(ScriptedDetector(script), max_missed=5)
    tracks = run(tracker, len(script))
    sessions = [t.session for t in tracks if t is not None]
    assert sessions == [1] * 6 + [2] * 2
    assert tracks[3] is None  # a missed frame reports no face (the gate says so) ...
    assert tracks[5].session == 1  # ... but the person is the same when it comes back quickly


def test_a_different_place_is_a_different_person() -> None:
    script = [(50, 50, 150, 150)] * 3 + [(450, 300, 600, 450)] * 2
    tracks = run(FaceTracker(ScriptedDetector(script)), len(script))
    assert [t.session for t in tracks] == [1, 1, 1, 2, 2]
    assert tracks[3].box[0] == pytest.approx(450)  # a new track is not smoothed towards the old one


def rotate(points: np.ndarray, yaw_deg: float = 0.0, pitch_deg: float = 0.0) -> np.ndarray:
    """Rotate 3D mesh points about their centroid: +yaw turns the person to their left (nose to larger
    x), +pitch lifts the chin (z is depth: smaller is nearer, as in MediaPipe)."""
    c = points.mean(0)
    p = points - c
    a, b = math.radians(yaw_deg), math.radians(pitch_deg)
    x = p[:, 0] * math.cos(a) - p[:, 2] * math.sin(a)
    z = p[:, 0] * math.sin(a) + p[:, 2] * math.cos(a)
    y = p[:, 1] * math.cos(b) + z * math.sin(b)
    z = -p[:, 1] * math.sin(b) + z * math.cos(b)
    return np.column_stack([x, y, z]) + c


@pytest.fixture(scope="module")
def frontal_landmarks(store: ModelStore, face_img: np.ndarray) -> np.ndarray:
    frame = place_face(face_img, LORES, SIDE, (320, 240))
    tracker = FaceTracker.from_store(store)
    track = tracker.update(frame)
    mesh = FaceMesh(store.get("face_landmark")).detect(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), track.detection)
    return mesh.landmarks.astype(np.float64)


def test_frontal_face_has_near_zero_pose(store: ModelStore, face_img: np.ndarray) -> None:
    tracker = FaceTracker.from_store(store)
    frame = place_face(face_img, LORES, SIDE, (320, 240))
    pose = tracker.pose(frame, tracker.update(frame))
    assert abs(pose.yaw_deg) < 5 and abs(pose.pitch_deg) < 5 and abs(pose.roll_deg) < 6
    assert pose.presence > 0.9


@pytest.mark.parametrize("yaw", [-30.0, -15.0, 15.0, 30.0])
def test_yaw_from_the_mesh(frontal_landmarks: np.ndarray, yaw: float) -> None:
    base = head_pose(frontal_landmarks, 0.0)
    pose = head_pose(rotate(frontal_landmarks, yaw_deg=yaw), 0.0)
    assert pose.yaw_deg - base.yaw_deg == pytest.approx(yaw, abs=3.0)
    assert abs(pose.pitch_deg - base.pitch_deg) < 4.0


@pytest.mark.parametrize("pitch", [-25.0, 20.0])
def test_pitch_from_the_mesh(frontal_landmarks: np.ndarray, pitch: float) -> None:
    base = head_pose(frontal_landmarks, 0.0)
    pose = head_pose(rotate(frontal_landmarks, pitch_deg=pitch), 0.0)
    assert pose.pitch_deg - base.pitch_deg == pytest.approx(pitch, abs=4.0)


def test_roll_is_the_mesh_eye_line(store: ModelStore, face_img: np.ndarray) -> None:
    tracker = FaceTracker.from_store(store)
    frame = place_face(face_img, LORES, SIDE, (320, 240), angle=-30)  # turned clockwise on screen
    pose = tracker.pose(frame, tracker.update(frame))
    assert pose.roll_deg == pytest.approx(30 + 3, abs=5)  # the portrait's own roll is ~+3
