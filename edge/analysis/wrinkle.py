"""`wrinkle`: wrinkle contours and their six seed types from the int8 `ridge_hessian` model.

Steps (all in the face-aligned crop, inside the bounding box of the wrinkle zones):
  1. the model's Hessian bank of luma, divided by the local mean luma (relative contrast), gives per
     pixel the line strength, the normal across the line and the winning scale (`ridges.ridge_field`),
     and the broad-scale curvature across it (folds);
  2. candidates: maxima of strength along the normal (non-maximum suppression), inside the wrinkle
     zones (skin regions, which keep a margin off eyes, brows, lips, nostrils and the face outline)
     minus a hair mask, not on a broad fold (fold veto);
  3. edge rejection: a step edge's dark-side lobe (one-sided darkness *and* an opposite curvature lobe);
  4. hysteresis: a connected run of candidates is kept when somewhere its thin excess (line strength
     minus broad-scale curvature) reaches STRENGTH_SEED;
  5. tracing into ordered polylines, joining pieces across small gaps, dropping short ones, spot rings
     (paths along their own normals) and lines that run along an eye, brow or lip outline;
  6. type by region vote and orientation; points to original-image pixels.

Types (seed): 1 forehead, 2 glabellar (between the brows), 3 fine lines around the eyes (under the
eye), 4 crow's feet, 5 nasolabial, 6 perioral.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np

from edge.analysis import reference as ref
from edge.analysis import ridges
from edge.analysis.base import register

if TYPE_CHECKING:
    from edge.face.context import FaceContext
    from edge.runtime.manifest import ModelStore

FOREHEAD, GLABELLAR, EYE_FINE, CROWS_FEET, NASOLABIAL, PERIORAL = 1, 2, 3, 4, 5, 6
# Region -> the type a line found there gets (before the orientation rules below); where regions
# overlap, the first listed wins.
ZONE_TYPES: dict[str, int] = {
    "forehead": FOREHEAD,
    "glabella": GLABELLAR,
    "crows_feet_left": CROWS_FEET,  # before under_eye: where the two overlap, lines fan out from the corner
    "crows_feet_right": CROWS_FEET,
    "under_eye_left": EYE_FINE,
    "under_eye_right": EYE_FINE,
    "nasolabial_left": NASOLABIAL,
    "nasolabial_right": NASOLABIAL,
    "perioral": PERIORAL,
}

# Line strength (relative contrast: sigma^2 x the luma curvature across the line / local mean luma). A
# line c times darker than the skin beside it, as wide as the filter, answers ~0.35 c; its thin excess
# (strength minus the broad-scale curvature, see FOLD_LEAK) keeps about half of that. A line must reach
# a thin excess of STRENGTH_SEED somewhere (~ a line 12-15 % darker than its surround: clearly visible
# on a face photo; a 3 % line is ignored, see the tests) and is followed down to STRENGTH_FOLLOW, so it
# can fade out along its length.
STRENGTH_SEED = 0.025
STRENGTH_FOLLOW = 0.01
# Edge rejection: the dark-side lobe of a step edge looks like a line to the Hessian. It is rejected
# when it shows both marks of an edge:
#  - one-sided: darkness at the pixel minus darkness at +-d along the normal (d = SIDE_DIST_PER_SIGMA
#    x sigma, two distances, >= 2 px) is large on one side only: the weaker side holds less than
#    SIDE_BALANCE of the stronger or less than SIDE_MIN_OD at both distances (an edge's dark plateau
#    is no darker than its lobe);
#  - an opposite lobe: the curvature across the line at EDGE_LOBE_DIST_PER_SIGMA x sigma on one side
#    is below -EDGE_LOBE_RATIO x its value at the pixel (a step's second derivative has two equal and
#    opposite lobes 2 sigma apart; a line's side lobes reach only ~0.4 of its peak).
# A line on a shading ramp or on the flank of a fold is one-sided but has no opposite lobe: kept.
SIDE_DIST_PER_SIGMA = (1.0, 2.0)
SIDE_BALANCE = 0.15
SIDE_MIN_OD = 0.006
EDGE_LOBE_DIST_PER_SIGMA = 2.0
EDGE_LOBE_RATIO = 0.6
# Fold veto: a pixel whose response at the broad scale (ridges.FOLD_SCALE) exceeds FOLD_RATIO x its
# line-scale response lies on a broad valley (smile fold, lid or lip shadow), not on a thin line.
FOLD_RATIO = 1.0
# A line must be *seeded* by its thin excess, line strength - FOLD_LEAK x broad-scale strength: the part
# of the response a broad valley does not explain. An isolated thin line keeps most of its strength; a
# crease at the bottom of a smile fold (whose broad valley answers the line scales too) keeps little.
FOLD_LEAK = 1.0
# Polylines shorter than this are texture (pores, hair stubble, noise), not wrinkles.
MIN_LENGTH_MM = 4.0
# A wrinkle runs across its Hessian normals; a path whose median |cos(path direction, normal)| exceeds
# this (60 deg or closer to the normal) runs along them: the flank ring around a dark spot.
PATH_NORMAL_MAX_COS = 0.5
# Pieces of at least PIECE_MIN_MM whose ends face each other (within LINK_TURN_DEG) across at most
# LINK_GAP_MM are one wrinkle interrupted by a pore, hair or shading, and are joined first.
PIECE_MIN_MM = 1.0
LINK_GAP_MM = 2.0
LINK_TURN_DEG = 35.0
# Hair: darkness smoothed at HAIR_SIGMA_MM beyond the cheek skin's by HAIR_DARKER_OD (~25 % darker
# over a ~1.5 mm neighbourhood; a thin wrinkle averages out at that scale) is hair or deep shadow.
# Dark structures narrower than HAIR_MIN_WIDTH_MM are opened away first (a dark wrinkle, or one beside
# the hairline, must not become hair), and the mask is grown by HAIR_MARGIN_MM so its border's edge
# lobes stay out too.
HAIR_SIGMA_MM = 1.5
HAIR_DARKER_OD = 0.3
HAIR_MIN_WIDTH_MM = 3.0
HAIR_MARGIN_MM = 1.0
# A polyline with more than NATURAL_EDGE_SHARE of its points within NATURAL_EDGE_MM of an eye, brow or
# lip contour *and* running along it (local direction within NATURAL_EDGE_PARALLEL_DEG of the
# contour's) follows that natural edge (lid crease, brow border, lip line): dropped. Lines crossing
# the contour (perioral lines, crow's feet) are kept.
NATURAL_EDGE_MM = 3.0
NATURAL_EDGE_SHARE = 0.5
NATURAL_EDGE_PARALLEL_DEG = 30.0
NATURAL_EDGES = ("eye_left", "eye_right", "brow_left", "brow_right", "lips")
# Orientation rules. A steep line (tilt from horizontal above GLABELLAR_MIN_TILT_DEG) in the forehead
# within the glabella's horizontal span is a frown line rising from between the brows (type 2); a
# steep forehead line elsewhere is a hair strand or vessel, not a forehead line (those run across the
# brow, tilting at most FOREHEAD_MAX_TILT_DEG at the temples), and is dropped. In a nasolabial band a
# line crossing the fold (more than NASOLABIAL_MAX_CROSS_DEG off the band's axis) is a perioral line.
GLABELLAR_MIN_TILT_DEG = 50.0
FOREHEAD_MAX_TILT_DEG = 40.0
NASOLABIAL_MAX_CROSS_DEG = 45.0
# The ridge field is computed in the zones' bounding box grown by this (crop px): room for the normal
# non-maximum suppression and the side samples at the border.
WINDOW_MARGIN_PX = 12
# Output polylines are resampled to about this spacing (crop px) so long lines stay compact.
POINT_SPACING_PX = 3.0


@dataclass(frozen=True)
class Wrinkle:
    points: np.ndarray  # (N, 2) crop px, ordered along the line
    type: int
    zone: str
    depth_od: float  # median line strength along it
    length_mm: float


def _tilt_deg(pts: np.ndarray) -> float:
    """Angle of the polyline's principal axis from horizontal, 0..90."""
    centred = pts - pts.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    dx, dy = vt[0]
    return float(np.degrees(np.arctan2(abs(dy), abs(dx))))


def _axis_angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Unsigned angle between two undirected axes, 0..90."""
    cos = abs(float(np.dot(a, b))) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-9)
    return float(np.degrees(np.arccos(min(cos, 1.0))))


def _resample(pts: np.ndarray, spacing: float) -> np.ndarray:
    seg = np.hypot(*np.diff(pts, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(int(round(arc[-1] / spacing)) + 1, 2)
    at = np.linspace(0.0, arc[-1], n)
    return np.column_stack([np.interp(at, arc, pts[:, 0]), np.interp(at, arc, pts[:, 1])])


class WrinkleFinder:
    """Crop-space wrinkle detection on one face (separate from the analyzer so tests and the eval
    can run it on any Hessian maps)."""

    def __init__(self, ctx: FaceContext) -> None:
        self.ctx = ctx
        self.size = ctx.crop_size
        self.px_per_mm = 1.0 / ctx.mm_per_px

    def zones(self, dark: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(zone index map: 0 none, i+1 = ZONE_TYPES key i; allowed mask)."""
        regions = self.ctx.regions
        index = np.zeros((self.size, self.size), np.uint8)
        for i, name in enumerate(ZONE_TYPES):
            index[(regions.mask(name) > 0) & (index == 0)] = i + 1
        return index, (index > 0) & ~self.hair_mask(dark)

    def hair_mask(self, dark: np.ndarray) -> np.ndarray:
        regions = self.ctx.regions
        cheeks = (regions.mask("cheek_left") > 0) | (regions.mask("cheek_right") > 0)
        skin_level = float(np.median(dark[cheeks])) if cheeks.any() else float(np.median(dark))
        # Grey opening of darkness removes dark structures narrower than the disc (wrinkles, however
        # dark) before smoothing; hair masses and broad shadow stay.
        thin = max(int(round(HAIR_MIN_WIDTH_MM * self.px_per_mm / 2)), 1)
        masses = cv2.morphologyEx(dark, cv2.MORPH_OPEN,
                                  cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * thin + 1, 2 * thin + 1)))
        smooth = cv2.GaussianBlur(masses, (0, 0), HAIR_SIGMA_MM * self.px_per_mm)
        hair = (smooth > skin_level + HAIR_DARKER_OD).astype(np.uint8)
        grow = max(int(round(HAIR_MARGIN_MM * self.px_per_mm)), 1)
        return cv2.dilate(hair, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))) > 0

    def window(self, allowed: np.ndarray) -> tuple[int, int, int, int] | None:
        """Bounding box of the allowed zones plus WINDOW_MARGIN_PX, aligned to the coarsest pyramid
        level (the ridge field is only computed there: about half the crop)."""
        ys, xs = np.nonzero(allowed)
        if len(ys) == 0:
            return None
        align = 2 ** max(level for level, _ in ridges.SCALES)

        def lo(v: int) -> int:
            return max((v - WINDOW_MARGIN_PX) // align * align, 0)

        def hi(v: int) -> int:
            return min(-(-(v + 1 + WINDOW_MARGIN_PX) // align) * align, self.size)

        return lo(int(xs.min())), lo(int(ys.min())), hi(int(xs.max())), hi(int(ys.max()))

    def line_pixels(self, field: ridges.RidgeField, dark: np.ndarray, allowed: np.ndarray,
                    maps: dict[str, np.ndarray], offset: tuple[int, int] = (0, 0)) -> np.ndarray:
        """Bool mask: thin ridge pixels that pass edge rejection and hysteresis inside `allowed`."""
        cand = ridges.non_max_suppression(field, STRENGTH_FOLLOW) & allowed
        cand &= field.broad <= FOLD_RATIO * field.strength
        ys, xs = np.nonzero(cand)
        if len(ys):
            one_sided = np.ones(len(ys), bool)
            for per_sigma in SIDE_DIST_PER_SIGMA:
                plus, minus = ridges.side_contrast(dark, field, ys, xs, per_sigma)
                weak, strong = np.minimum(plus, minus), np.maximum(plus, minus)
                one_sided &= (weak < SIDE_MIN_OD) | (weak < SIDE_BALANCE * strong)
            nx, ny, sig = field.normal_x[ys, xs], field.normal_y[ys, xs], field.sigma[ys, xs]
            centre = ridges.normal_curvature(maps, (xs + offset[0]).astype(np.float64),
                                             (ys + offset[1]).astype(np.float64), nx, ny, sig)
            lobes = []
            for sign in (1.0, -1.0):
                px = xs + offset[0] + sign * EDGE_LOBE_DIST_PER_SIGMA * sig * nx
                py = ys + offset[1] + sign * EDGE_LOBE_DIST_PER_SIGMA * sig * ny
                lobes.append(ridges.normal_curvature(maps, px, py, nx, ny, sig))
            opposite_lobe = np.minimum(lobes[0], lobes[1]) < -EDGE_LOBE_RATIO * centre
            bad = one_sided & opposite_lobe
            cand[ys[bad], xs[bad]] = False
        count, labels = cv2.connectedComponents(cand.astype(np.uint8), connectivity=8)
        seeded = np.zeros(count, bool)
        thin_excess = field.strength - FOLD_LEAK * field.broad
        seeded[np.unique(labels[cand & (thin_excess >= STRENGTH_SEED)])] = True
        seeded[0] = False
        return seeded[labels]

    def natural_edge_distance(self) -> np.ndarray:
        """Distance (crop px) to the nearest eye, brow or lip outline."""
        outline = np.full((self.size, self.size), 255, np.uint8)
        for name in NATURAL_EDGES:
            poly = np.round(self.ctx.regions.polygon(name)).astype(np.int32)
            cv2.polylines(outline, [poly], True, 0, 1)
        return cv2.distanceTransform(outline, cv2.DIST_L2, 3)

    def runs_across_its_normals(self, path: np.ndarray, field: ridges.RidgeField, offset: tuple[int, int]) -> bool:
        """True when the traced path runs along the Hessian normals instead of across them: the ring
        of flank responses around a dark spot (each flank pixel looks like a short radial line), not
        a line."""
        k = max(int(round(self.px_per_mm)), 1)
        n = len(path)
        idx = np.arange(n)
        tangent = path[np.minimum(idx + k, n - 1)] - path[np.maximum(idx - k, 0)]
        tangent /= np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-9)[:, None]
        iy, ix = path[:, 1].astype(int) - offset[1], path[:, 0].astype(int) - offset[0]
        cos = np.abs(tangent[:, 0] * field.normal_x[iy, ix] + tangent[:, 1] * field.normal_y[iy, ix])
        return float(np.median(cos)) > PATH_NORMAL_MAX_COS

    def follows_natural_edge(self, path: np.ndarray, edge_dist: np.ndarray) -> bool:
        """True when most of the polyline lies close to an eye/brow/lip outline and parallel to it."""
        ix = np.clip(path.astype(int), 1, self.size - 2)
        d = edge_dist[ix[:, 1], ix[:, 0]]
        # The outline's normal is the distance map's gradient; the polyline's tangent its local step.
        gx = edge_dist[ix[:, 1], ix[:, 0] + 1] - edge_dist[ix[:, 1], ix[:, 0] - 1]
        gy = edge_dist[ix[:, 1] + 1, ix[:, 0]] - edge_dist[ix[:, 1] - 1, ix[:, 0]]
        k = max(int(round(self.px_per_mm)), 1)  # tangent over ~1 mm
        tangent = path[np.minimum(np.arange(len(path)) + k, len(path) - 1)] - path[np.maximum(np.arange(len(path)) - k, 0)]
        cos = np.abs(gx * tangent[:, 0] + gy * tangent[:, 1]) / np.maximum(
            np.hypot(gx, gy) * np.hypot(tangent[:, 0], tangent[:, 1]), 1e-6)
        along = cos < np.sin(np.radians(NATURAL_EDGE_PARALLEL_DEG))
        return float(np.mean((d < NATURAL_EDGE_MM * self.px_per_mm) & along)) > NATURAL_EDGE_SHARE

    def classify(self, pts: np.ndarray, zone_index: np.ndarray) -> tuple[int, str] | None:
        """(type, zone) by region vote and orientation, or None when the line is not a wrinkle."""
        ix = np.clip(np.round(pts).astype(int), 0, self.size - 1)
        votes = np.bincount(zone_index[ix[:, 1], ix[:, 0]], minlength=len(ZONE_TYPES) + 1)[1:]
        if votes.sum() == 0:
            return None
        zone = list(ZONE_TYPES)[int(np.argmax(votes))]
        kind = ZONE_TYPES[zone]
        tilt = _tilt_deg(pts)
        if kind == FOREHEAD and tilt > GLABELLAR_MIN_TILT_DEG:
            glabella = self.ctx.regions.polygon("glabella")
            if glabella[:, 0].min() <= pts[:, 0].mean() <= glabella[:, 0].max():
                return GLABELLAR, zone
        if kind == FOREHEAD and tilt > FOREHEAD_MAX_TILT_DEG:
            return None
        if kind == NASOLABIAL:
            band = self.ctx.regions.polygon(zone)
            axis = band[1] - band[0]  # the band's long side, ala -> mouth corner
            centred = pts - pts.mean(0)
            direction = np.linalg.svd(centred, full_matrices=False)[2][0]
            if _axis_angle_deg(axis, direction) > NASOLABIAL_MAX_CROSS_DEG:
                return PERIORAL, zone
        return kind, zone

    def find(self, maps: dict[str, np.ndarray]) -> list[Wrinkle]:
        dark = cv2.GaussianBlur(ridges.darkness(ref.gray_input(self.ctx.crop)), (0, 0), 1.0)
        zone_index, allowed = self.zones(dark)
        roi = self.window(allowed)
        if roi is None:
            return []
        x0, y0, x1, y1 = roi
        field = ridges.ridge_field(maps, self.size, roi)
        lines = self.line_pixels(field, np.ascontiguousarray(dark[y0:y1, x0:x1]), allowed[y0:y1, x0:x1],
                                 maps, (x0, y0))
        min_len = MIN_LENGTH_MM * self.px_per_mm
        edge_dist = self.natural_edge_distance()
        found: list[Wrinkle] = []
        pieces = [p + (x0, y0) for p in ridges.trace_paths(lines, PIECE_MIN_MM * self.px_per_mm)]
        joined = ridges.link_paths(pieces, LINK_GAP_MM * self.px_per_mm, LINK_TURN_DEG)
        for path in joined:
            if ridges.arc_length(path) < min_len:
                continue
            ix = path.astype(int)
            if self.runs_across_its_normals(path, field, (x0, y0)) or self.follows_natural_edge(path, edge_dist):
                continue
            kind = self.classify(path, zone_index)
            if kind is None:
                continue
            depth = float(np.median(field.strength[ix[:, 1] - y0, ix[:, 0] - x0]))
            found.append(Wrinkle(_resample(path, POINT_SPACING_PX), kind[0], kind[1], depth,
                                 ridges.arc_length(path) / self.px_per_mm))
        return found


@register("wrinkle")
class WrinkleAnalyzer:
    name: ClassVar[str] = "wrinkle"
    models: ClassVar[tuple[str, ...]] = (ridges.MODEL_NAME,)

    def __init__(self, store: ModelStore) -> None:
        self.store = store

    def analyze(self, ctx: FaceContext, extended: bool = False) -> dict[str, Any]:
        wrinkles = WrinkleFinder(ctx).find(ridges.hessian_maps(ctx, self.store))
        data = []
        for w in wrinkles:
            pts = ctx.crop_to_original(w.points)
            data.append([{"x": round(float(x), 2), "y": round(float(y), 2)} for x, y in pts])
        out: dict[str, Any] = {"wrinkle": {"wrinkle_num": len(wrinkles),
                                           "wrinkle_types": [int(w.type) for w in wrinkles],
                                           "wrinkle_data": data}}
        if extended:
            out["extended"] = {"wrinkle": {
                "length_mm": [round(w.length_mm, 1) for w in wrinkles],
                "depth_od": [round(w.depth_od, 4) for w in wrinkles],
                "zone": [w.zone for w in wrinkles],
            }}
        return out
