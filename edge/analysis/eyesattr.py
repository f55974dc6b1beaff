"""`eyesattr`: dark circles (type + polygon) and eye bags (type + polygon) under each eye.

Dark circles compare the under-eye region with the same side's cheek (medians over real skin pixels:
hair, shine and deep shadow left out):
  - present when the under-eye returns less light, mean OD increase >= DARK_CIRCLE_MIN_OD;
  - typed by *what* darkens it, from the optical-density pigment maps (int8 `skin_pigment` model,
    Tsumura decomposition): the difference under-eye - cheek is split into melanin, hemoglobin and
    shading (neutral darkening along OD (1,1,1)). Relative to the mean OD increase D:
      melanin share >= PIGMENT_MELANIN_SHARE                   -> 0 pigment (brown),
      melanin share <= -BLUISH_MELANIN_SHARE (blue kept, red and green absorbed: a bluish-purple cast)
        or hemoglobin share >= VASCULAR_HEMOGLOBIN_SHARE       -> 2 vascular,
      otherwise (mostly neutral darkening)                     -> 1 shadow;
  - outlined by the under-eye pixels darker than the cheek by at least half the median difference.
Eye bags read the luma profile below the lower lid in eye-aligned coordinates: a dark crease (valley)
under the central/lateral eye, some way below the lid (the lower border of a bulging bag), is a fat
bag (1); a dark groove in the medial part,
from the inner corner down and out, is a tear trough (2); both is mixed (3). The polygon spans lid to
crease over the columns that show it. Absent findings are empty lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np

from edge.analysis import maps
from edge.analysis import reference as ref
from edge.analysis.base import register
from edge.analysis.color_science import bgr_to_lab

if TYPE_CHECKING:
    from edge.face.context import FaceContext
    from edge.runtime.manifest import ModelStore

PIGMENT, SHADOW, VASCULAR = 0, 1, 2
FAT, TEAR_TROUGH, MIXED = 1, 2, 3
SIDES = ("left", "right")

# --- dark circles ---------------------------------------------------------------------------------
# Mean optical-density increase (under-eye - cheek, averaged over R, G, B) from which the under-eye
# counts as a dark circle: 0.06 ~ 6 % less light returned, about 2.5 L* on skin, i.e. just visible.
# (OD rather than L*: a brown darkening absorbs mostly blue and lowers L* by only a third as much.)
DARK_CIRCLE_MIN_OD = 0.06
# Shares of the mean OD increase D (under-eye - cheek). Pure melanin has share +1.87 (it absorbs blue
# most), neutral shading 0; a bluish-purple cast (red/green absorbed more than blue) has a negative
# melanin share (-1.1 .. -1.4); added blood a hemoglobin share ~+1.8. Thresholds at about a third.
PIGMENT_MELANIN_SHARE = 0.6
BLUISH_MELANIN_SHARE = 0.4
VASCULAR_HEMOGLOBIN_SHARE = 0.6
# The dark-circle outline: under-eye pixels (mean OD smoothed over ~0.5 mm) darker than the cheek by at
# least this fraction of the median excess; an outline under MIN_AREA_SHARE of the region means the
# darkening is diffuse, and the whole region is the outline.
OUTLINE_DEPTH_SHARE = 0.5
OUTLINE_MIN_AREA_SHARE = 0.1
# A polygon needs at least this many cheek / under-eye skin pixels to be judged at all.
MIN_PIXELS = 30
# Polygons are simplified to this tolerance (crop px).
POLY_EPSILON_PX = 1.5

# --- eye bags ---------------------------------------------------------------------------------------
# Eye-aligned sampling grid below the lower lid: BAG_COLUMNS across the eye (inner -> outer corner),
# BAG_ROWS from BAG_V_START to BAG_V_END eye widths below the lid.
BAG_COLUMNS = 12
BAG_ROWS = 24
BAG_V_START = 0.04
BAG_V_END = 0.7
BAG_SMOOTH_MM = 0.7  # luma smoothing before profiling: skin texture out, creases (1-3 mm) kept
# A crease: darkness (OD) at its deepest row exceeds the lightest row above it and the lightest row
# below it, within CREASE_REACH_MM, by at least CREASE_MIN_OD each (~4 % darker than both sides). The
# reach keeps it a groove: a broad dark band (a dark circle) is not darker than skin 2.5 mm away
# inside the band.
CREASE_MIN_OD = 0.04
CREASE_REACH_MM = 2.5
# Fat bag: the bag's lower border casts a crease under the central/lateral eye, parallel to the lid and
# at least BAG_MIN_V eye widths (~3.5 mm) below it (closer is the lid's own fold), over at least
# BAG_MIN_COLUMNS of the BAG_COLUMNS (a bag spans most of the eye's width, ~40 %; a shorter crease is a
# line, e.g. the lower-lid crease of a smile).
BAG_MIN_V = 0.12
BAG_MIN_COLUMNS = 5
# Columns with u < MEDIAL_U (fraction of the eye width from the inner corner) are medial: a crease
# there is the tear trough (it starts at the inner corner); a bag sits at u >= MEDIAL_U.
MEDIAL_U = 0.4
TROUGH_MIN_COLUMNS = 2
# The trough runs down and out from the inner corner: its crease must descend laterally by at least
# TROUGH_MIN_SLOPE eye widths per eye width (a dark band along the lid, e.g. a dark circle, does not).
TROUGH_MIN_SLOPE = 0.3
# Lower-lid landmarks of each eye polygon (FaceRegions eye_* polygons start with the lower lid, outer
# corner first: 9 points, the last is the inner corner).
LOWER_LID_POINTS = 9


@dataclass(frozen=True)
class DarkCircle:
    kind: int | None  # None: no dark circle
    polygon: np.ndarray  # (N, 2) crop px, empty when none
    delta_l: float  # cheek L* - under-eye L*
    shares: tuple[float, float]  # melanin, hemoglobin share of the mean OD increase
    mean_od: float = 0.0  # mean OD increase under-eye - cheek


@dataclass(frozen=True)
class EyeBag:
    kind: int | None
    polygon: np.ndarray
    bag_columns: int
    trough_columns: int


def _polygon_of(mask: np.ndarray) -> np.ndarray:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return np.zeros((0, 2))
    c = max(contours, key=cv2.contourArea)
    return cv2.approxPolyDP(c, POLY_EPSILON_PX, True).reshape(-1, 2).astype(np.float64)


class EyeAreaReader:
    """Per-face measurements for both eyes (crop space)."""

    def __init__(self, ctx: FaceContext, store: ModelStore) -> None:
        self.ctx, self.store = ctx, store
        self.px_per_mm = 1.0 / ctx.mm_per_px

    # --- dark circles -------------------------------------------------------------------------------
    def dark_circle(self, side: str) -> DarkCircle:
        ctx = self.ctx
        p, r = maps.pigment_maps(ctx, self.store), maps.skin_reference(ctx, self.store)
        # Skin pixels without shine and deep shadow. (Not maps.skin_pixels: its melanin margin, meant
        # for hair and moles, would drop exactly the pixels of a strong pigment dark circle.)
        usable = ~maps.specular_mask(ctx, self.store) & (p.shading <= r.shading + maps.SHADOW_OD_MARGIN)
        under = maps.zone(ctx, f"under_eye_{side}") & usable
        cheek = maps.zone(ctx, f"cheek_{side}") & usable
        none = DarkCircle(None, np.zeros((0, 2)), 0.0, (0.0, 0.0), 0.0)
        if under.sum() < MIN_PIXELS or cheek.sum() < MIN_PIXELS:
            return none
        if not (ctx.regions.visible(f"under_eye_{side}") and ctx.regions.visible(f"cheek_{side}")):
            return none  # cut by the photo's border: too little to compare
        l_under = float(np.median(bgr_to_lab(ctx.crop[under])[:, 0]))
        l_cheek = float(np.median(bgr_to_lab(ctx.crop[cheek])[:, 0]))
        delta_l = l_cheek - l_under
        d_mel = float(np.median(p.melanin[under]) - np.median(p.melanin[cheek]))
        d_hem = float(np.median(p.hemoglobin[under]) - np.median(p.hemoglobin[cheek]))
        d_sh = float(np.median(p.shading[under]) - np.median(p.shading[cheek]))
        # Mean OD increase over R, G, B of that pigment change (each pigment vector's channel mean).
        mean_od = (d_mel * float(np.mean(ref.MELANIN_OD)) + d_hem * float(np.mean(ref.HEMOGLOBIN_OD)) + d_sh)
        if mean_od < DARK_CIRCLE_MIN_OD or delta_l <= 0:
            return DarkCircle(None, np.zeros((0, 2)), delta_l, (0.0, 0.0), mean_od)
        mel_share, hem_share = d_mel / mean_od, d_hem / mean_od
        kind = classify_dark_circle(mel_share, hem_share)
        return DarkCircle(kind, self.dark_outline(side, under, cheek, mean_od), delta_l, (mel_share, hem_share),
                          mean_od)

    def dark_outline(self, side: str, under: np.ndarray, cheek: np.ndarray, mean_od: float) -> np.ndarray:
        """Under-eye pixels whose mean OD exceeds the cheek's by OUTLINE_DEPTH_SHARE of the median excess."""
        od = self.ctx.cached("eyesattr:mean_od", lambda c: cv2.GaussianBlur(
            ref.optical_density(c.crop).mean(axis=-1), (0, 0), max(0.5 * self.px_per_mm, 0.5)))
        region = maps.zone(self.ctx, f"under_eye_{side}")
        dark = region & (od >= float(np.median(od[cheek])) + OUTLINE_DEPTH_SHARE * mean_od)
        dark = cv2.morphologyEx(dark.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)) > 0
        if dark.sum() < OUTLINE_MIN_AREA_SHARE * region.sum():
            dark = region  # darker on the median, but diffusely: the whole under-eye region
        return _polygon_of(dark)

    # --- eye bags -----------------------------------------------------------------------------------
    def lid_frame(self, side: str) -> tuple[np.ndarray, np.ndarray, float]:
        """(lower-lid points inner -> outer, unit 'down' vector, eye width) in crop px."""
        eye = self.ctx.regions.polygon(f"eye_{side}")
        lid = eye[:LOWER_LID_POINTS][::-1]  # inner corner first
        axis = lid[-1] - lid[0]
        width = float(np.hypot(*axis))
        down = np.array([-axis[1], axis[0]]) / max(width, 1e-6)
        if down[1] < 0:
            down = -down
        return lid, down, width

    def profile_grid(self, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(darkness OD (rows, cols), sample x, sample y) on the eye-aligned grid below the lid."""
        lid, down, width = self.lid_frame(side)
        seg = np.hypot(*np.diff(lid, axis=0).T)
        arc = np.concatenate([[0.0], np.cumsum(seg)]) / max(seg.sum(), 1e-6)
        u = (np.arange(BAG_COLUMNS) + 0.5) / BAG_COLUMNS
        base = np.column_stack([np.interp(u, arc, lid[:, 0]), np.interp(u, arc, lid[:, 1])])
        v = np.linspace(BAG_V_START, BAG_V_END, BAG_ROWS) * width
        xs = (base[None, :, 0] + v[:, None] * down[0]).astype(np.float32)
        ys = (base[None, :, 1] + v[:, None] * down[1]).astype(np.float32)
        smooth = self.ctx.cached("eyesattr:bag_darkness", lambda c: cv2.GaussianBlur(
            ref.optical_density(maps.luma(c)), (0, 0), max(BAG_SMOOTH_MM * self.px_per_mm, 0.5)))
        dark = cv2.remap(smooth, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return dark, xs, ys

    def eye_bag(self, side: str) -> EyeBag:
        if not self.ctx.regions.visible(f"under_eye_{side}"):
            return EyeBag(None, np.zeros((0, 2)), 0, 0)  # cut by the photo's border
        dark, xs, ys = self.profile_grid(side)
        u = (np.arange(BAG_COLUMNS) + 0.5) / BAG_COLUMNS
        crease_row = np.full(BAG_COLUMNS, -1)
        bag_cols, trough_cols = [], []
        _, _, width = self.lid_frame(side)
        row_mm = (BAG_V_END - BAG_V_START) * width / (BAG_ROWS - 1) / self.px_per_mm
        reach = max(int(round(CREASE_REACH_MM / max(row_mm, 1e-6))), 1)
        for c in range(BAG_COLUMNS):
            row, _ = find_crease(dark[:, c], reach)
            if row < 0:
                continue
            crease_row[c] = row
            if u[c] < MEDIAL_U:
                trough_cols.append(c)
            elif BAG_V_START + row * (BAG_V_END - BAG_V_START) / (BAG_ROWS - 1) >= BAG_MIN_V:
                bag_cols.append(c)
        if len(trough_cols) >= 2:
            v = BAG_V_START + crease_row[trough_cols] * (BAG_V_END - BAG_V_START) / (BAG_ROWS - 1)
            if np.polyfit(u[trough_cols], v, 1)[0] < TROUGH_MIN_SLOPE:
                trough_cols = []
        kind = classify_eye_bag(len(bag_cols), len(trough_cols))
        if kind is None:
            return EyeBag(None, np.zeros((0, 2)), len(bag_cols), len(trough_cols))
        cols = sorted(bag_cols + trough_cols)
        top = np.column_stack([xs[0, cols], ys[0, cols]])
        bottom = np.column_stack([xs[crease_row[cols], cols], ys[crease_row[cols], cols]])
        poly = np.vstack([top, bottom[::-1]]).astype(np.float64)
        return EyeBag(kind, poly, len(bag_cols), len(trough_cols))


def classify_dark_circle(melanin_share: float, hemoglobin_share: float) -> int:
    """Dark-circle type from the melanin / hemoglobin shares of the mean OD increase (see module doc)."""
    pigment = melanin_share >= PIGMENT_MELANIN_SHARE
    vascular = melanin_share <= -BLUISH_MELANIN_SHARE or hemoglobin_share >= VASCULAR_HEMOGLOBIN_SHARE
    if pigment and vascular:  # brown and red together: the larger share decides
        return PIGMENT if melanin_share >= hemoglobin_share else VASCULAR
    if pigment:
        return PIGMENT
    if vascular:
        return VASCULAR
    return SHADOW


def find_crease(profile: np.ndarray, reach: int) -> tuple[int, float]:
    """(row of the deepest crease in a darkness profile (top = lid) or -1, bulge: darkness below the
    crease minus darkness above it, within `reach` rows, > 0 when the part above is lighter)."""
    n = len(profile)
    best, best_depth, bulge = -1, CREASE_MIN_OD, 0.0
    for r in range(1, n - 1):
        above = float(profile[max(r - reach, 0):r].min())
        below = float(profile[r + 1:r + 1 + reach].min())
        depth = min(profile[r] - above, profile[r] - below)
        if depth >= best_depth:
            best, best_depth, bulge = r, depth, below - above
    return best, bulge


def classify_eye_bag(bag_columns: int, trough_columns: int) -> int | None:
    bag, trough = bag_columns >= BAG_MIN_COLUMNS, trough_columns >= TROUGH_MIN_COLUMNS
    if bag and trough:
        return MIXED
    if bag:
        return FAT
    if trough:
        return TEAR_TROUGH
    return None


def _points(ctx: FaceContext, poly: np.ndarray) -> list[dict[str, float]]:
    if len(poly) == 0:
        return []
    return [{"x": round(float(x), 2), "y": round(float(y), 2)} for x, y in ctx.crop_to_original(poly)]


@register("eyesattr")
class EyesAttrAnalyzer:
    name: ClassVar[str] = "eyesattr"
    models: ClassVar[tuple[str, ...]] = ("skin_pigment",)

    def __init__(self, store: ModelStore) -> None:
        self.store = store

    def analyze(self, ctx: FaceContext, extended: bool = False) -> dict[str, Any]:
        reader = EyeAreaReader(ctx, self.store)
        circles = {s: reader.dark_circle(s) for s in SIDES}
        bags = {s: reader.eye_bag(s) for s in SIDES}
        out: dict[str, Any] = {"eyesattr": {
            "dark_circle_left_type": [] if circles["left"].kind is None else [circles["left"].kind],
            "dark_circle_right_type": [] if circles["right"].kind is None else [circles["right"].kind],
            "dark_circle_left": _points(ctx, circles["left"].polygon),
            "dark_circle_right": _points(ctx, circles["right"].polygon),
            "eye_bags_left": _points(ctx, bags["left"].polygon),
            "eye_bags_right": _points(ctx, bags["right"].polygon),
            "eye_bags_left_type": [] if bags["left"].kind is None else [bags["left"].kind],
            "eye_bags_right_type": [] if bags["right"].kind is None else [bags["right"].kind],
        }}
        if extended:
            out["extended"] = {"eyesattr": {
                f"dark_circle_{s}": {"delta_l": round(c.delta_l, 2), "mean_od": round(c.mean_od, 4),
                                     "melanin_share": round(c.shares[0], 3),
                                     "hemoglobin_share": round(c.shares[1], 3)}
                for s, c in circles.items()} | {
                f"eye_bags_{s}": {"bag_columns": b.bag_columns, "trough_columns": b.trough_columns}
                for s, b in bags.items()}}
        return out
