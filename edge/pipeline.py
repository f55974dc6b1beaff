"""analyze(): image in, face dicts out. Pure: no file, network or HTTP I/O.

face: detect -> mesh -> aligned crop -> regions -> FaceContext; analysis: one Analyzer per requested
field, each shared map computed once per face. An Engine owns its interpreters and is not
thread-safe: create one per worker thread.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from edge.analysis.base import FACE_FIELDS, Analyzer, available_fields, deep_merge
from edge.config import Settings
from edge.errors import ErrorKind, SkinKioskError
from edge.face.context import FaceContext
from edge.face.detector import Detection, DetectorOptions, FaceDetector
from edge.face.image_quality import exposure, sharpness
from edge.face.mesh import FaceMesh, roi_matrix
from edge.face.pose import HeadPose, head_pose
from edge.face.regions import build_regions
from edge.runtime.manifest import ModelStore

CROP_MARGIN = 1.25  # aligned crop side = this x the mesh's extent (forehead/jaw fully inside)
BORDER_MARGIN_PX = 6  # crop px kept off the photo's edge: about the analysis filters' half-width


@dataclass
class StageTimer:
    """Milliseconds per named stage, summed over faces (for benchmarks and /metrics)."""

    ms: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.ms[stage] = self.ms.get(stage, 0.0) + seconds * 1000.0


class _Stage:
    def __init__(self, timer: StageTimer | None, name: str) -> None:
        self.timer, self.name = timer, name

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        if self.timer is not None:
            self.timer.add(self.name, time.perf_counter() - self.t0)


def location_of(ctx: FaceContext) -> dict[str, Any]:
    """Seed `location`: axis-aligned box of the mesh in original px, plus the clockwise roll."""
    xy = ctx.landmarks[:, :2].astype(np.float64) * ctx.to_original
    h, w = ctx.image.shape[:2]
    x0, y0 = max(float(xy[:, 0].min()), 0.0), max(float(xy[:, 1].min()), 0.0)
    x1 = min(float(xy[:, 0].max()), w * ctx.to_original)
    y1 = min(float(xy[:, 1].max()), h * ctx.to_original)
    return {"left": round(x0, 2), "top": round(y0, 2), "width": round(x1 - x0, 2), "height": round(y1 - y0, 2),
            "degree": int(ctx.degree)}


@dataclass
class FaceGeometry:
    """One face: the seed face dict of the fields asked for and its geometry in original px, without
    pixel maps (what a side photo of the vendor's Pro tier needs)."""

    face: dict[str, Any]
    image_size: tuple[int, int]  # original photo (width, height)
    landmarks: np.ndarray  # (468, 2) mesh points, original px
    pose: HeadPose
    regions: dict[str, np.ndarray]  # named region outlines (edge/face/regions.py), original px


@dataclass
class FaceMeasures(FaceGeometry):
    """One face, measured: the seed face dict (every field, `extended` on) and, for formats that draw
    (outlines, maps at the photo's size), its geometry in original px and pixel maps in crop px."""

    photo: np.ndarray  # the analysed frame (BGR, analysis scale; x to_original_scale = original px)
    to_original_scale: float
    crop_to_original: np.ndarray  # 2x3 affine: crop px -> original px
    crop_size: int
    mm_per_px: float  # crop px
    region_masks: dict[str, np.ndarray]  # the regions, crop px, bool
    skin: np.ndarray  # crop px bool: skin that shows skin (no hair, brows, moles, deep shadow)
    melanin_excess: np.ndarray  # crop px, melanin OD over the face's own typical skin
    hemoglobin_excess: np.ndarray  # crop px, hemoglobin OD over the face's own typical skin
    shine: np.ndarray  # crop px bool: specular highlights
    pictures: dict[str, np.ndarray]  # skinface's crop pictures (src_pic, gray_pic, brown_pic, red_pic)
    quality: dict[str, float]  # sharpness, brightness, dark/bright clipped share, face width (original px)

    def to_original(self, points: np.ndarray) -> np.ndarray:
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        return pts @ self.crop_to_original[:, :2].T + self.crop_to_original[:, 2]


def _crop_to_original(ctx: FaceContext) -> np.ndarray:
    """2x3 affine: crop px -> original px."""
    to_image = np.vstack([ctx.crop_to_image_matrix, [0, 0, 1]])
    return (np.diag([ctx.to_original, ctx.to_original, 1.0]) @ to_image)[:2]


def face_geometry(face: dict[str, Any], ctx: FaceContext) -> FaceGeometry:
    m = _crop_to_original(ctx)
    h, w = ctx.image.shape[:2]

    def orig(poly: np.ndarray) -> np.ndarray:
        pts = np.asarray(poly, np.float64).reshape(-1, 2)
        return pts @ m[:, :2].T + m[:, 2]

    return FaceGeometry(face=face, image_size=(int(round(w * ctx.to_original)), int(round(h * ctx.to_original))),
                        landmarks=ctx.landmarks[:, :2].astype(np.float64) * ctx.to_original,
                        pose=head_pose(ctx.landmarks, float(ctx.degree)),
                        regions={n: orig(p) for n, p in ctx.regions.polygons.items()})


def face_measures(face: dict[str, Any], ctx: FaceContext, store: ModelStore) -> FaceMeasures:
    from edge.analysis import maps
    from edge.analysis.skinface import health_images, picture_references

    geometry = face_geometry(face, ctx)
    pig = maps.pigment_maps(ctx, store)
    mel_ref, hem_ref = picture_references(ctx, store)
    gray = cv2.cvtColor(ctx.crop, cv2.COLOR_BGR2GRAY)
    face_mask = ctx.regions.mask("face")
    mean, dark, bright = exposure(gray[face_mask > 0]) if face_mask.any() else exposure(gray)
    width = float(geometry.landmarks[:, 0].max() - geometry.landmarks[:, 0].min())
    return FaceMeasures(
        **vars(geometry), photo=ctx.image, to_original_scale=ctx.to_original,
        crop_to_original=_crop_to_original(ctx), crop_size=ctx.crop_size, mm_per_px=ctx.mm_per_px,
        region_masks={n: m > 0 for n, m in ctx.regions.masks.items()},
        skin=maps.skin_pixels(ctx, store), melanin_excess=(pig.melanin - mel_ref).astype(np.float32),
        hemoglobin_excess=(pig.hemoglobin - hem_ref).astype(np.float32), shine=maps.specular_mask(ctx, store),
        pictures=health_images(ctx, store),
        quality={"sharpness": sharpness(gray), "brightness": mean, "dark_clipped": dark, "bright_clipped": bright,
                 "face_width_px": width})


class Engine:
    def __init__(self, settings: Settings, store: ModelStore | None = None) -> None:
        self.settings = settings
        rt = settings.runtime
        self.store = store or ModelStore(rt.models_dir, rt.manifest, num_threads=rt.num_threads, verify=rt.verify_hashes)
        fc = settings.face
        self.detector = FaceDetector.create_from_options(
            self.store, DetectorOptions(mode=fc.detector, min_score=fc.min_score, nms_iou=fc.nms_iou)
        )
        self._mesh: FaceMesh | None = None
        self._analyzers: dict[str, Analyzer] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Engine:
        return cls(settings)

    @property
    def mesh(self) -> FaceMesh:
        if self._mesh is None:
            self._mesh = FaceMesh(self.store.get("face_landmark"))
        return self._mesh

    def warm_up(self, fields: Iterable[str] = ()) -> None:
        """Load the face models (and the given fields' models) now rather than on first request."""
        self.detector.warm_up()
        _ = self.mesh
        for name in fields:
            self.analyzer(name)

    @staticmethod
    def available_fields() -> list[str]:
        registered = available_fields()
        return [f for f in FACE_FIELDS if f in registered]

    def check_fields(self, fields: Iterable[str]) -> None:
        missing = [f for f in fields if f not in available_fields()]
        if missing:
            raise SkinKioskError(ErrorKind.FIELD_NOT_AVAILABLE, ",".join(missing))

    def analyzer(self, name: str) -> Analyzer:
        if name not in self._analyzers:
            factories = available_fields()
            if name not in factories:
                raise SkinKioskError(ErrorKind.FIELD_NOT_AVAILABLE, name)
            self._analyzers[name] = factories[name](self.store)
        return self._analyzers[name]

    # --- face stage -------------------------------------------------------------------------
    def face_contexts(self, image: np.ndarray, max_faces: int = 1, to_original: float = 1.0,
                      timer: StageTimer | None = None) -> list[FaceContext]:
        with _Stage(timer, "detect"):
            detections = self.detector.detect_any_orientation(image, max_faces=max_faces)
        contexts = []
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if detections else None
        for det in detections:
            with _Stage(timer, "mesh"):
                mesh = self.mesh.detect(rgb, det)
            if mesh.presence < self.settings.face.min_mesh_score:
                continue
            with _Stage(timer, "regions"):
                contexts.append(self._context(image, to_original, det, mesh.landmarks, mesh.roll_deg))
        return contexts

    def _context(self, image: np.ndarray, to_original: float, det: Detection, landmarks: np.ndarray,
                 roll_deg: float) -> FaceContext:
        size = self.settings.face.crop_size
        center = landmarks[:, :2].mean(0)
        rot = cv2.getRotationMatrix2D((float(center[0]), float(center[1])), roll_deg, 1.0)
        upright = landmarks[:, :2] @ rot[:, :2].T + rot[:, 2]
        lo, hi = upright.min(0), upright.max(0)
        inv = cv2.invertAffineTransform(rot)
        mid = inv[:, :2] @ ((lo + hi) / 2) + inv[:, 2]
        side = float(max(hi - lo)) * CROP_MARGIN
        m = roi_matrix((float(mid[0]), float(mid[1])), side, roll_deg, size)
        crop = cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        lm_crop = np.column_stack([landmarks[:, :2] @ m[:, :2].T + m[:, 2], landmarks[:, 2] * size / side])
        regions = build_regions(lm_crop, size, inside=self._inside_mask(image.shape[:2], m, size))
        degree = int(round(roll_deg))  # atan2 already gives [-180, 180]
        return FaceContext(image=image, to_original=to_original, detection=det, landmarks=landmarks, crop=crop,
                           crop_matrix=m, landmarks_crop=lm_crop.astype(np.float32), regions=regions, degree=degree)

    @staticmethod
    def _inside_mask(shape: tuple[int, ...], m: np.ndarray, size: int) -> np.ndarray | None:
        """Crop pixels that come from the photo (None when all do), less a margin where the
        replicated border would still bleed into filters."""
        h, w = shape[:2]
        corners = np.array([[0, 0], [size - 1, 0], [0, size - 1], [size - 1, size - 1]], np.float64)
        inv = cv2.invertAffineTransform(m)
        src = corners @ inv[:, :2].T + inv[:, 2]
        if src[:, 0].min() >= 0 and src[:, 1].min() >= 0 and src[:, 0].max() <= w - 1 and src[:, 1].max() <= h - 1:
            return None
        ones = np.full((h, w), 255, np.uint8)
        inside = cv2.warpAffine(ones, m, (size, size), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=0)
        margin = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * BORDER_MARGIN_PX + 1, 2 * BORDER_MARGIN_PX + 1))
        return cv2.erode(inside, margin)

    # --- whole analysis ---------------------------------------------------------------------
    def analyze(self, image: np.ndarray, fields: Iterable[str] = (), max_faces: int = 1, extended: bool = False,
                to_original: float = 1.0, timer: StageTimer | None = None) -> list[dict[str, Any]]:
        """Face dicts (seed shape), largest face first. Raises NO_FACE when there is none."""
        return [f for f, _ in self._faces(image, fields, max_faces, extended, to_original, timer)]

    def measure(self, image: np.ndarray, max_faces: int = 1, to_original: float = 1.0,
                timer: StageTimer | None = None) -> list[FaceMeasures]:
        """Every field on each face (extended on) plus the geometry and pixel maps the vendor formats
        draw with: one set of measurements that every format renders (edge/formats/)."""
        out = []
        for face, ctx in self._faces(image, self.available_fields(), max_faces, True, to_original, timer):
            with _Stage(timer, "measures"):
                out.append(face_measures(face, ctx, self.store))
        return out

    def measure_geometry(self, image: np.ndarray, fields: Iterable[str], max_faces: int = 1,
                         to_original: float = 1.0, timer: StageTimer | None = None) -> list[FaceGeometry]:
        """Only the given fields on each face, plus its mesh, pose and region outlines (no pixel maps):
        for a photo of which a format uses little (a side photo's jawline and lesions)."""
        return [face_geometry(face, ctx) for face, ctx in self._faces(image, fields, max_faces, False, to_original,
                                                                       timer)]

    def _faces(self, image: np.ndarray, fields: Iterable[str], max_faces: int, extended: bool,
               to_original: float, timer: StageTimer | None) -> list[tuple[dict[str, Any], FaceContext]]:
        fields = list(fields)
        self.check_fields(fields)
        contexts = self.face_contexts(image, max_faces=max_faces, to_original=to_original, timer=timer)
        if not contexts:
            raise SkinKioskError(ErrorKind.NO_FACE)
        faces = []
        for ctx in contexts:
            face: dict[str, Any] = {"face_token": secrets.token_hex(16), "location": location_of(ctx)}
            for name in fields:
                with _Stage(timer, name):
                    part = self.analyzer(name).analyze(ctx, extended=extended)
                deep_merge(face, part)
            faces.append((face, ctx))
        return faces

    def close(self) -> None:
        self.store.close()
