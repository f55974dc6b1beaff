"""`blackheadpore`: blackheads on and around the nose, enlarged pores on the forehead and cheeks.

Both are small dark dots of the `lesion_blobs` dark channel (sigma 1-2 crop px, ~0.3-1.5 mm).
Blackheads are measured one by one by `lesions.measure` (segment, contour, contrast); pores, which can
number hundreds, get vectorized features from the finest blob map (contrast ~ 2 x response, elongation
from the response's second moments). Types come from named rules on those features:
pores 1 oily (in a shiny area), 2 dehydrated (faint), 3 keratin (plugged: high contrast),
4 aging (elongated, sagging); blackheads 1 fat plug (dark, >= 0.8 mm), 2 sebaceous filament (grey,
small), 3 mite (dense cluster). `poly` holds one area per zone with findings (nose: blackheads;
forehead, right cheek, left cheek: pores) with its box, score and outer contour; `circles` holds every
blackhead and pore as {x, y, r}. A dot whose centre lies inside a box `acnespotmole` reports (acne,
speckle, mole) is that lesion, not a blackhead or pore, and is left out: one spot is reported once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np

from edge.analysis import acnespotmole as asm
from edge.analysis import lesions as les
from edge.analysis.base import register

if TYPE_CHECKING:
    from edge.face.context import FaceContext
    from edge.runtime.manifest import ModelStore

BLACKHEAD, PORE = 0, 1  # poly class_id
OILY, DEHYDRATED, KERATIN, AGING = 1, 2, 3, 4  # pore_segs_type
FAT_PLUG, FILAMENT, MITE = 1, 2, 3  # blackhead_segs_type

# --- zones ---------------------------------------------------------------------------------------------
BLACKHEAD_AROUND_MM = 3.0  # blackheads are searched on the nose and this far around it
PORE_ZONES = ("forehead", "cheek_right", "cheek_left")  # where the seed reports pores

# --- blackheads ----------------------------------------------------------------------------------------
DETECT_BLACKHEAD = 0.08  # dark-channel response (OD): a blackhead is >= ~0.16 OD darker than its skin
BLACKHEAD_MIN_DARK_OD = 0.18  # measured darkness contrast (~16 % less light)
BLACKHEAD_MAX_MM = 2.0  # larger dark spots are moles or spots (acnespotmole)
BLACKHEAD_MIN_MM = 0.3  # smaller is sensor noise at kiosk resolution
BLACKHEAD_MAX_ELONGATION = 2.5  # a plugged opening is round-ish; longer is a crease or hair
BLACKHEAD_MAX_REDNESS = 0.65  # red dots are inflamed (acne), not comedones
FAT_PLUG_MIN_DARK_OD = 0.35  # an oxidised plug is very dark ...
FAT_PLUG_MIN_MM = 0.8  # ... and wide; fainter/smaller dark dots are sebaceous filaments
MITE_CLUSTER_MM = 3.0  # demodex-type: many dots close together:
MITE_CLUSTER_MIN = 4  # ... at least this many other blackheads within MITE_CLUSTER_MM

# --- pores ---------------------------------------------------------------------------------------------
DETECT_PORE = 0.03  # finest-scale dark response (OD): a pore is >= ~0.06 OD darker than its skin
PORE_MAX = 300  # strongest pores kept (bounds the work and the response size)
PORE_RADIUS_SIGMAS = 1.5  # a pore's radius ~ 1.5 sigma of the scale it answers at
PORE_AGING_ELONGATION = 1.6  # elongated (teardrop) pores come with sagging skin
PORE_KERATIN_OD = 0.14  # a pore this much darker than its skin is plugged with keratin
OILY_SHINE_OD = 0.06  # a pore in skin this much lighter than the face's plain skin sits in a shiny area
SHINE_WINDOW_MM = 4.0  # the neighbourhood whose mean level decides "shiny"
PORE_MOMENT_RADIUS = 2  # px: the 5x5 patch of the response whose second moments give elongation


@dataclass(frozen=True)
class BlackheadFeatures:
    dark: float  # darkness contrast, OD
    diameter_mm: float
    neighbours: int  # other blackheads within MITE_CLUSTER_MM


def blackhead_type(f: BlackheadFeatures) -> int:
    if f.neighbours >= MITE_CLUSTER_MIN:
        return MITE
    if f.dark >= FAT_PLUG_MIN_DARK_OD and f.diameter_mm >= FAT_PLUG_MIN_MM:
        return FAT_PLUG
    return FILAMENT


def is_blackhead(lesion: les.Lesion) -> bool:
    return (lesion.contrast[les.DARK] >= BLACKHEAD_MIN_DARK_OD
            and BLACKHEAD_MIN_MM <= lesion.diameter_mm <= BLACKHEAD_MAX_MM
            and lesion.elongation <= BLACKHEAD_MAX_ELONGATION and lesion.redness <= BLACKHEAD_MAX_REDNESS)


@dataclass(frozen=True)
class PoreFeatures:
    dark: float  # darkness contrast, OD
    elongation: float
    shine: float  # OD by which the pore's neighbourhood is lighter than the face's plain skin


def pore_type(f: PoreFeatures) -> int:
    if f.elongation >= PORE_AGING_ELONGATION:
        return AGING
    if f.dark >= PORE_KERATIN_OD:
        return KERATIN
    if f.shine >= OILY_SHINE_OD:
        return OILY
    return DEHYDRATED


@dataclass
class Dot:
    x: float  # crop px
    y: float
    r: float  # crop px
    score: float
    type: int
    contour: np.ndarray  # (N, 2) crop px


def _neighbour_counts(xy: np.ndarray, radius_px: float) -> np.ndarray:
    if len(xy) == 0:
        return np.zeros(0, int)
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    return (d <= radius_px).sum(axis=1) - 1


def outside_boxes(boxes: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """(N,) bool: the points (N, 2) that lie in none of the boxes (M, 4: left, top, right, bottom)."""
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    if not len(boxes) or not len(xy):
        return np.ones(len(xy), bool)
    x, y = xy[:, 0:1], xy[:, 1:2]
    inside = (x >= boxes[:, 0]) & (x <= boxes[:, 2]) & (y >= boxes[:, 1]) & (y <= boxes[:, 3])
    return ~inside.any(axis=1)


def outside_lesions(ctx: FaceContext, store: ModelStore, xy: np.ndarray) -> np.ndarray:
    """(N,) bool: the crop-px points that lie in none of acnespotmole's reported finding boxes."""
    return outside_boxes(np.array([f.box for f in asm.findings(ctx, store)]), xy)


def blackheads(ctx: FaceContext, store: ModelStore) -> list[Dot]:
    """The reported blackheads: `blackhead_dots` outside every acnespotmole finding."""
    dots = blackhead_dots(ctx, store)
    keep = outside_lesions(ctx, store, np.array([(d.x, d.y) for d in dots]).reshape(-1, 2))
    return [d for d, k in zip(dots, keep, strict=True) if k]


def blackhead_dots(ctx: FaceContext, store: ModelStore) -> list[Dot]:
    """Every dark dot on and around the nose that passes the blackhead rules, typed."""
    grow = max(int(round(BLACKHEAD_AROUND_MM / ctx.mm_per_px)), 1)
    zone = cv2.dilate(ctx.regions.mask("nose"), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)) > 0
    det = les.Detector(thresholds={(les.DARK, 1): DETECT_BLACKHEAD}, scales=("blob_s1", "blob_s2"),
                       max_candidates=120)
    found = [x for x in les.find_lesions(ctx, store, det, zone) if is_blackhead(x)]
    xy = np.array([(x.x, x.y) for x in found]).reshape(-1, 2)
    counts = _neighbour_counts(xy, MITE_CLUSTER_MM / ctx.mm_per_px)
    dots = []
    for lesion, n in zip(found, counts, strict=True):
        t = blackhead_type(BlackheadFeatures(float(lesion.contrast[les.DARK]), lesion.diameter_mm, int(n)))
        dots.append(Dot(lesion.x, lesion.y, float(np.sqrt(lesion.area_px / np.pi)), lesion.score, t, lesion.contour))
    return dots


def pores(ctx: FaceContext, store: ModelStore, avoid: list[Dot]) -> list[Dot]:
    zone = les.region_union(ctx, PORE_ZONES)
    det = les.Detector(thresholds={(les.DARK, 1): DETECT_PORE}, scales=("blob_s1",), max_candidates=PORE_MAX,
                       max_peaks=PORE_MAX)
    maps = les.maps(ctx, store)
    cands = les.find_candidates(maps, zone & les.analysable_skin(ctx), det, ctx.mm_per_px)
    xy = np.array([(c.x, c.y) for c in cands]).reshape(-1, 2)
    cands = [c for c, k in zip(cands, outside_lesions(ctx, store, xy), strict=True) if k]
    if not cands:
        return []
    resp = np.ascontiguousarray(maps["blob_s1"][..., les.DARK])
    size = resp.shape[0]
    xs = np.array([int(round(c.x)) for c in cands])
    ys = np.array([int(round(c.y)) for c in cands])
    # Elongation from the second moments of the positive response around each peak (vectorized).
    k = PORE_MOMENT_RADIUS
    off = np.arange(-k, k + 1)
    py = np.clip(ys[:, None, None] + off[None, :, None], 0, size - 1)
    px = np.clip(xs[:, None, None] + off[None, None, :], 0, size - 1)
    w = np.maximum(resp[py, px], 0.0)
    w = w / np.maximum(w.sum(axis=(1, 2), keepdims=True), 1e-9)
    oy, ox = np.meshgrid(off, off, indexing="ij")
    myy = (w * oy**2).sum(axis=(1, 2)) - (w * oy).sum(axis=(1, 2)) ** 2
    mxx = (w * ox**2).sum(axis=(1, 2)) - (w * ox).sum(axis=(1, 2)) ** 2
    mxy = (w * ox * oy).sum(axis=(1, 2)) - (w * ox).sum(axis=(1, 2)) * (w * oy).sum(axis=(1, 2))
    tr, det2 = mxx + myy, mxx * myy - mxy**2
    disc = np.sqrt(np.maximum(tr**2 / 4 - det2, 0.0))
    elong = np.sqrt((tr / 2 + disc + 0.25) / np.maximum(tr / 2 - disc + 0.25, 1e-6))
    # Shine: the neighbourhood's darkness vs the face's plain skin.
    win = max(int(round(SHINE_WINDOW_MM / ctx.mm_per_px)) | 1, 3)
    local = ctx.cached("blackheadpore:local_dark", lambda c: cv2.blur(les.channels(c)[..., les.DARK], (win, win)))
    shine = les.skin_reference(ctx)[les.DARK] - local[ys, xs]
    avoid_xy = np.array([(d.x, d.y) for d in avoid]).reshape(-1, 2)
    out = []
    for i, c in enumerate(cands):
        if len(avoid_xy) and np.min(np.hypot(avoid_xy[:, 0] - c.x, avoid_xy[:, 1] - c.y)) < 3 * c.radius:
            continue
        t = pore_type(PoreFeatures(2.0 * c.response, float(elong[i]), float(shine[i])))
        r = PORE_RADIUS_SIGMAS * c.sigma
        ang = np.linspace(0, 2 * np.pi, 8, endpoint=False)
        contour = np.column_stack([c.x + r * np.cos(ang), c.y + r * np.sin(ang)])
        out.append(Dot(c.x, c.y, r, les.score_of(c.significance), t, contour))
    return out


def _poly(ctx: FaceContext, class_id: int, dots: list[Dot]) -> dict[str, Any]:
    """One detected area: box and outer contour (convex hull) of its dots, mean score."""
    pts = np.vstack([d.contour for d in dots])
    hull = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2)
    box = les.box_to_original(ctx, (float(pts[:, 0].min()), float(pts[:, 1].min()),
                                    float(pts[:, 0].max()), float(pts[:, 1].max())))
    return {"class_id": class_id, "score": les.r2(np.mean([d.score for d in dots])),
            "left": box["left"], "right": box["right"], "top": box["top"], "bottom": box["bottom"],
            "point": les.points_to_original(ctx, hull)}


def _circles(ctx: FaceContext, dots: list[Dot]) -> list[dict[str, float]]:
    scale = ctx.to_original / ctx.crop_px_per_image_px  # crop px -> original px
    if not dots:
        return []
    centres = ctx.crop_to_original(np.array([(d.x, d.y) for d in dots]))
    return [{"x": les.r2(x), "y": les.r2(y), "r": les.r2(d.r * scale)} for (x, y), d in zip(centres, dots, strict=True)]


@register("blackheadpore")
class BlackheadPore:
    name: ClassVar[str] = "blackheadpore"
    models: ClassVar[tuple[str, ...]] = (les.lb.MODEL_NAME, asm.ln.MODEL_NAME)

    def __init__(self, store: ModelStore) -> None:
        self.store = store

    def analyze(self, ctx: FaceContext, extended: bool = False) -> dict[str, Any]:
        bh = blackheads(ctx, self.store)
        pr = pores(ctx, self.store, bh)
        poly = []
        if bh:
            poly.append(_poly(ctx, BLACKHEAD, bh))
        pore_counts = {}
        for zone in PORE_ZONES:
            mask = ctx.regions.mask(zone)
            in_zone = [d for d in pr if mask[int(round(d.y)), int(round(d.x))]]
            pore_counts[zone] = len(in_zone)
            if in_zone:
                poly.append(_poly(ctx, PORE, in_zone))
        field = {
            "poly": poly,
            "circles": [{"blackhead": _circles(ctx, bh), "pore": _circles(ctx, pr)}],
            "pore_num": len(pr),
            "pore_segs_type": [d.type for d in pr],
            "blackhead_num": len(bh),
            "blackhead_segs_type": [d.type for d in bh],
        }
        out: dict[str, Any] = {"blackheadpore": field}
        if extended:
            out["extended"] = {"blackheadpore": {
                "blackhead_contours": [les.points_to_original(ctx, d.contour) for d in bh],
                "blackhead_scores": [les.r2(d.score) for d in bh],
                "pore_scores": [les.r2(d.score) for d in pr],
                "pore_counts": pore_counts,  # per zone (forehead, cheeks), for "where"
            }}
        return out
