"""FaceContext: everything an analyzer may know about one face, in one object.

Analyzers work on the *face-aligned crop* (`crop`, square, `crop_size` px, eyes horizontal, the
person's right eye on the image left as in an unmirrored photo). Region masks and landmarks are given
in crop pixels; `crop_to_original()` maps crop points back to original-image pixels for the JSON.
Shared maps are computed once per face through `cached()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from edge.face.detector import Detection
    from edge.face.regions import FaceRegions

T = TypeVar("T")

# Mean adult inter-pupillary distance; the face's own scale for sizes in mm.
MEAN_IPD_MM = 63.0


@dataclass
class FaceContext:
    image: np.ndarray  # analysis-scale BGR frame (uint8)
    to_original: float  # analysis px * to_original = original-image px
    detection: Detection
    landmarks: np.ndarray  # (468, 3) float32 in analysis-image px (x, y, z)
    crop: np.ndarray  # face-aligned BGR crop (crop_size x crop_size, uint8)
    crop_matrix: np.ndarray  # 2x3 affine: analysis-image px -> crop px
    landmarks_crop: np.ndarray  # (468, 3) float32 in crop px
    regions: FaceRegions  # named masks/polygons in crop px
    degree: int  # clockwise roll of the face, degrees
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def crop_size(self) -> int:
        return int(self.crop.shape[0])

    @property
    def ipd_px(self) -> float:
        """Distance between the eye centres (mean of each eye contour), crop px."""
        return self.regions.ipd_px

    @property
    def mm_per_px(self) -> float:
        """Millimetres per crop pixel, taking the inter-pupillary distance as 63 mm."""
        return MEAN_IPD_MM / max(self.ipd_px, 1e-6)

    @property
    def crop_px_per_image_px(self) -> float:
        """> 1 when the crop upsamples the face (small or distant face): finer detail than about
        one crop pixel per this many is not really in the photo, and detectors of fine features
        (pores, fine lines) should take that into account."""
        return float(np.hypot(self.crop_matrix[0, 0], self.crop_matrix[1, 0]))

    @property
    def crop_to_image_matrix(self) -> np.ndarray:
        m = np.vstack([self.crop_matrix, [0.0, 0.0, 1.0]])
        return np.linalg.inv(m)[:2]

    def crop_to_analysis(self, points: np.ndarray) -> np.ndarray:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        inv = self.crop_to_image_matrix
        return pts @ inv[:, :2].T + inv[:, 2]

    def crop_to_original(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) crop px -> (N, 2) original-image px."""
        return self.crop_to_analysis(points) * self.to_original

    def crop_box_to_original(self, left: float, top: float, right: float, bottom: float) -> tuple[float, float, float, float]:
        """Axis-aligned box in crop px -> the axis-aligned bounding box of its corners in original px."""
        corners = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], dtype=np.float64)
        pts = self.crop_to_original(corners)
        return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())

    def cached(self, key: str, compute: Callable[[FaceContext], T]) -> T:
        """Compute a shared per-face value (e.g. a model's output maps) once and reuse it."""
        if key not in self._cache:
            self._cache[key] = compute(self)
        return self._cache[key]
