"""BlazeFace face detection (MediaPipe short-range 128² and full-range 192² models).

Decoding follows MediaPipe's SsdAnchorsCalculator + TensorsToDetectionsCalculator: SSD anchors,
box centre/size + 6 keypoints relative to each anchor, sigmoid scores, weighted NMS. Keypoints, in
the model's order: person's right eye, left eye, nose tip, mouth centre, right ear, left ear.

Finding small faces in group photos: the full-range model sees the whole frame at 192 px, so a
64 px face in a 1920 px photo would shrink to ~6 px. `detect()` therefore also runs the full-range
model on overlapping tiles when more than one face is wanted (or none was found on the whole frame).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from edge.runtime.interpreter import TFLiteModel
from edge.runtime.manifest import ModelStore

KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear", "left_ear")


@dataclass(frozen=True)
class AnchorSpec:
    """MediaPipe SsdAnchorsCalculator options (fixed-size anchors, offset 0.5)."""

    input_size: int
    strides: tuple[int, ...]
    interpolated_scale_aspect_ratio: float  # > 0 adds a second anchor per layer

    def anchors(self) -> np.ndarray:
        """(N, 2) anchor centres, normalised to the model input."""
        centers: list[tuple[float, float]] = []
        layer = 0
        while layer < len(self.strides):
            per_cell = 0
            last = layer
            while last < len(self.strides) and self.strides[last] == self.strides[layer]:
                per_cell += 2 if self.interpolated_scale_aspect_ratio > 0 else 1
                last += 1
            grid = math.ceil(self.input_size / self.strides[layer])
            for y in range(grid):
                for x in range(grid):
                    centers.extend([((x + 0.5) / grid, (y + 0.5) / grid)] * per_cell)
            layer = last
        return np.asarray(centers, dtype=np.float32)


@dataclass(frozen=True)
class DetectorModelSpec:
    manifest_name: str
    anchors: AnchorSpec
    min_score: float  # MediaPipe's own threshold for this model


SHORT_RANGE = DetectorModelSpec("face_detection_short_range", AnchorSpec(128, (8, 16, 16, 16), 1.0), 0.5)
FULL_RANGE = DetectorModelSpec("face_detection_full_range_sparse", AnchorSpec(192, (4,), 0.0), 0.6)

# The full-range model finds faces down to ~12 px of its 192 px input, but below ~20 px its score
# swings with where the face sits (measured: a 64 px face in 768 px tiles = 16 px scored 0.13-0.93
# over positions, and was lost at 7 of 273 places of a 1080p frame). A 576 px tile shows a 64 px face
# at 21 px (>= FULL_RANGE_RELIABLE_PX); tiles overlap by half (288 px) so every face the whole-frame
# pass may miss (under ~200 px) is whole in some tile, and seen at two or more places by most.
TILE_SIDE_PX = 576
TILE_OVERLAP = 0.5
# Tiles keep faces down to the configured min_score (0.5 by default) rather than MediaPipe's 0.6 for
# this model: small faces in a tile score 0.53-0.56 at some places (measured), and the mesh's presence
# score still rejects what is not a face.
# A tile box reaching this close to a tile side inside the frame is a face cut by that side (a piece
# scoring >= 0.5 beside a big face, measured); with half overlap the same face is whole in a neighbour.
TILE_CUT_MARGIN_PX = 2.0
# A tile detection overlapping a whole-frame face by more than this share of its box is a piece of
# that face, not another face (faces in a crowd photo rarely hide more than a fifth of each other).
TILE_OVERLAP_MAX = 0.2
# Below this width (model-input px) a full-range box is found but placed loosely (measured: 12 px
# faces come with boxes shifted by half their size); when tiles run, they report such faces instead.
FULL_RANGE_RELIABLE_PX = 20.0
NESTED_SHARE = 0.6  # a box with more than this share inside a better-scored box is part of that face


@dataclass
class Detection:
    """One face: box (x0, y0, x1, y1) and 6 keypoints (6, 2), in the pixels of the searched image."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float
    source: str = ""

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)


@dataclass(frozen=True)
class DetectorOptions:
    mode: str = "auto"  # short | full | auto
    min_score: float = 0.5
    nms_iou: float = 0.3


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, iou: float) -> list[Detection]:
    """MediaPipe's WEIGHTED non-max suppression: overlapping boxes are averaged by score."""
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    alive = np.ones(len(scores), dtype=bool)
    out: list[Detection] = []
    for i in range(len(scores)):
        if not alive[i]:
            continue
        overlap = _iou(boxes[i], boxes) > iou
        members = np.flatnonzero(overlap & alive)
        members = np.union1d(members, [i])
        w = scores[members][:, None]
        box = (boxes[members] * w).sum(0) / w.sum()
        kps = (keypoints[members] * w[:, :, None]).sum(0) / w.sum()
        out.append(Detection(box=box.astype(np.float32), keypoints=kps.astype(np.float32), score=float(scores[i])))
        alive[members] = False
    return out


class BlazeFaceModel:
    """One BlazeFace model: letterbox an image to the model input, decode, map back to image px."""

    def __init__(self, model: TFLiteModel, spec: DetectorModelSpec) -> None:
        self.model = model
        self.spec = spec
        self.size = spec.anchors.input_size
        in_shape = model.input.shape
        if in_shape[1] != self.size or in_shape[2] != self.size:
            raise ValueError(f"{spec.manifest_name}: input {in_shape} is not {self.size}x{self.size}")
        self.anchors = spec.anchors.anchors()
        # Regressors are the [.., 16] output, scores the [.., 1] output: found by shape, not name.
        outs = sorted(model.outputs, key=lambda s: s.shape[-1])
        self.score_name, self.box_name = outs[0].name, outs[-1].name
        if self.anchors.shape[0] != model.output(self.box_name).shape[1]:
            raise ValueError(f"{spec.manifest_name}: anchor count does not match the model output")

    def detect_raw(self, rgb: np.ndarray, min_score: float,
                   model_threshold: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boxes (N,4), keypoints (N,6,2), scores (N,) in `rgb`'s pixels, before NMS; scores at least
        `min_score` and (with `model_threshold`) MediaPipe's own threshold for the model."""
        h, w = rgb.shape[:2]
        side = max(h, w)
        pad_x, pad_y = (side - w) / 2.0, (side - h) / 2.0
        scale = self.size / side
        m = np.array([[scale, 0, pad_x * scale], [0, scale, pad_y * scale]], dtype=np.float32)
        tensor = cv2.warpAffine(rgb, m, (self.size, self.size), flags=cv2.INTER_LINEAR)  # as MediaPipe does
        x = tensor.astype(np.float32)[None] / 127.5 - 1.0
        out = self.model.run(x)
        raw = out[self.box_name].reshape(-1, 16)
        logits = np.clip(out[self.score_name].reshape(-1), -100.0, 100.0)
        scores = 0.5 * (1.0 + np.tanh(0.5 * logits))  # sigmoid without exp overflow
        keep = scores >= (max(min_score, self.spec.min_score) if model_threshold else min_score)
        if not keep.any():
            return np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32), np.zeros((0,), np.float32)
        raw, scores, anchors = raw[keep], scores[keep], self.anchors[keep]
        cx = raw[:, 0] / self.size + anchors[:, 0]
        cy = raw[:, 1] / self.size + anchors[:, 1]
        bw = raw[:, 2] / self.size
        bh = raw[:, 3] / self.size
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
        kps = raw[:, 4:16].reshape(-1, 6, 2) / self.size + anchors[:, None, :]
        # normalised padded square -> image px
        boxes = boxes * side - np.array([pad_x, pad_y, pad_x, pad_y], dtype=np.float32)
        kps = kps * side - np.array([pad_x, pad_y], dtype=np.float32)
        return boxes.astype(np.float32), kps.astype(np.float32), scores.astype(np.float32)


@dataclass
class FaceDetector:
    """Face detection over the whole frame with the chosen BlazeFace model(s), plus tiles if needed."""

    store: ModelStore
    options: DetectorOptions = field(default_factory=DetectorOptions)

    def __post_init__(self) -> None:
        self._models: dict[str, BlazeFaceModel] = {}

    @classmethod
    def create_from_options(cls, store: ModelStore, options: DetectorOptions) -> FaceDetector:
        return cls(store=store, options=options)

    def _model(self, spec: DetectorModelSpec) -> BlazeFaceModel:
        if spec.manifest_name not in self._models:
            self._models[spec.manifest_name] = BlazeFaceModel(self.store.get(spec.manifest_name), spec)
        return self._models[spec.manifest_name]

    def warm_up(self) -> None:
        for spec in self._specs():
            self._model(spec)

    def _specs(self) -> list[DetectorModelSpec]:
        mode = self.options.mode
        return [SHORT_RANGE] if mode == "short" else [FULL_RANGE] if mode == "full" else [SHORT_RANGE, FULL_RANGE]

    def detect(self, bgr: np.ndarray, max_faces: int = 1) -> list[Detection]:
        """Faces in `bgr`, largest first, at most `max_faces`."""
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        raw = {spec.manifest_name: self._model(spec).detect_raw(rgb, self.options.min_score) for spec in self._specs()}
        found = any(len(r[2]) for r in raw.values())
        tiles = self.options.mode != "short" and max(rgb.shape[:2]) > TILE_SIDE_PX * 1.2 and (max_faces > 1 or not found)
        if tiles and FULL_RANGE.manifest_name in raw:
            # Faces this small on the whole frame are badly placed: the tiles see them larger.
            b, k, sc = raw[FULL_RANGE.manifest_name]
            model_px = (b[:, 2] - b[:, 0]) * FULL_RANGE.anchors.input_size / max(rgb.shape[:2])
            keep = model_px >= FULL_RANGE_RELIABLE_PX
            raw[FULL_RANGE.manifest_name] = (b[keep], k[keep], sc[keep])
        whole = _merge(list(raw.values()), self.options.nms_iou)
        if tiles:
            tiled = _merge(self._detect_tiles(rgb), self.options.nms_iou)
            # A tile sees only part of a big face and may report a piece of it: faces the whole-frame
            # pass found win, and tiles add only faces away from them (the small ones).
            whole += [t for t in tiled if max((_overlap_share(t, w) for w in whole), default=0.0) <= TILE_OVERLAP_MAX]
        whole.sort(key=lambda d: d.area, reverse=True)
        return whole[:max_faces]

    def detect_any_orientation(self, bgr: np.ndarray, max_faces: int = 1) -> list[Detection]:
        """`detect()`, and when it finds nothing, again on the picture turned by 180 and +-90 degrees
        (BlazeFace only finds roughly upright faces; phone photos without EXIF can be sideways).
        Boxes and keypoints are mapped back to `bgr`'s pixels."""
        found = self.detect(bgr, max_faces)
        if found:
            return found
        h, w = bgr.shape[:2]
        for code in (cv2.ROTATE_180, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE):
            found = self.detect(cv2.rotate(bgr, code), max_faces)
            if found:
                return [_unrotate(d, code, w, h) for d in found]
        return []

    def _detect_tiles(self, rgb: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        h, w = rgb.shape[:2]
        model = self._model(FULL_RANGE)
        step = int(TILE_SIDE_PX * (1 - TILE_OVERLAP))
        out = []
        for y0 in _tile_starts(h, TILE_SIDE_PX, step):
            for x0 in _tile_starts(w, TILE_SIDE_PX, step):
                tile = rgb[y0 : y0 + TILE_SIDE_PX, x0 : x0 + TILE_SIDE_PX]
                boxes, kps, scores = model.detect_raw(tile, self.options.min_score, model_threshold=False)
                side = np.array([tile.shape[1], tile.shape[0]], np.float32)
                cut = np.zeros(len(scores), bool)
                if x0 > 0:
                    cut |= boxes[:, 0] < TILE_CUT_MARGIN_PX
                if y0 > 0:
                    cut |= boxes[:, 1] < TILE_CUT_MARGIN_PX
                if x0 + side[0] < w:
                    cut |= boxes[:, 2] > side[0] - TILE_CUT_MARGIN_PX
                if y0 + side[1] < h:
                    cut |= boxes[:, 3] > side[1] - TILE_CUT_MARGIN_PX
                boxes, kps, scores = boxes[~cut], kps[~cut], scores[~cut]
                if len(scores):
                    boxes = boxes + np.array([x0, y0, x0, y0], dtype=np.float32)
                    kps = kps + np.array([x0, y0], dtype=np.float32)
                    out.append((boxes, kps, scores))
        return out


def _unrotate(det: Detection, code: int, w: int, h: int) -> Detection:
    """A detection on cv2.rotate(image, code) mapped back to the w x h image."""

    def back(pts: np.ndarray) -> np.ndarray:
        x, y = pts[:, 0], pts[:, 1]
        if code == cv2.ROTATE_180:
            return np.column_stack([w - 1 - x, h - 1 - y])
        if code == cv2.ROTATE_90_CLOCKWISE:  # (x, y) -> (h-1-y, x)
            return np.column_stack([y, h - 1 - x])
        return np.column_stack([w - 1 - y, x])  # counter-clockwise: (x, y) -> (y, w-1-x)

    b = det.box
    corners = back(np.array([[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]], np.float64))
    box = np.array([*corners.min(0), *corners.max(0)], np.float32)
    return Detection(box=box, keypoints=back(det.keypoints.astype(np.float64)).astype(np.float32), score=det.score,
                     source=det.source)


def _merge(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], iou: float) -> list[Detection]:
    parts = [p for p in parts if len(p[2])]
    if not parts:
        return []
    boxes, kps, scores = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return _drop_nested(weighted_nms(boxes, kps, scores, iou))


def _overlap_share(det: Detection, other: Detection) -> float:
    """Share of `det`'s box that lies inside `other`'s box."""
    x0, y0 = max(det.box[0], other.box[0]), max(det.box[1], other.box[1])
    x1, y1 = min(det.box[2], other.box[2]), min(det.box[3], other.box[3])
    return float(max(x1 - x0, 0) * max(y1 - y0, 0)) / max(det.area, 1e-9)


def _tile_starts(length: int, tile: int, step: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, step))
    starts.append(length - tile)
    return starts


def _drop_nested(dets: list[Detection]) -> list[Detection]:
    """Tiles can cut a big face and report a part of it: drop a box mostly inside a higher-scored one."""
    keep: list[Detection] = []
    for det in sorted(dets, key=lambda d: -d.score):
        if all(_overlap_share(det, k) <= NESTED_SHARE for k in keep):
            keep.append(det)
    return keep
