"""Point-lesion post-processing of `blackheadpore` (blackheads, pores); acne, spots and moles come from
the trained `lesion_centernet` model (edge/analysis/acnespotmole.py), of which this keeps the output helpers.

From the `lesion_blobs` maps (multi-scale -sigma^2 LoG of dark / melanin / hemoglobin, OD units):
local maxima above a per-channel threshold inside the analysable skin only -> one candidate per place
(strongest scale and channel wins) -> each candidate measured on the crop's channel maps: contrast per
channel against its skin surround, a half-contrast segment (contour, box, size in mm, elongation,
solidity) and the brightness of its centre. Candidates that are not closed blobs on skin (edges of hair,
brows, eyes, lips, nostrils, shadows) are dropped here; the analyzers only classify what is left.

Analysable skin = the `skin` region (face minus grown eyes/brows/lips/nostrils) minus large, very dark
areas (hair over the forehead or temples, deep shadow), which a face mesh does not know about, and minus
over-exposed (clipped) pixels, whose colour cannot be decomposed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np

from edge.analysis import lesion_blobs as lb

if TYPE_CHECKING:
    from edge.face.context import FaceContext
    from edge.runtime.manifest import ModelStore

DARK, MEL, HEM = 0, 1, 2  # channel indices of the lesion maps
PIGMENT = 3  # virtual channel: melanin + hemoglobin (any coloured spot, brown, red or in between)


def channel_values(arr: np.ndarray, ch: int) -> np.ndarray:
    """arr[..., ch], with PIGMENT = MEL + HEM."""
    return arr[..., MEL] + arr[..., HEM] if ch == PIGMENT else arr[..., ch]

# --- analysable skin --------------------------------------------------------------------------------
SKIN_REFERENCE_REGIONS = ("cheek_left", "cheek_right", "nose", "chin")  # rarely covered by hair
HAIR_DARK_OD = 0.55  # pixels this much darker (OD) than the median cheek are hair/shadow candidates
HAIR_MIN_AREA_MM2 = 60.0  # ... and such a dark area this large is hair/shadow, not a lesion (mole < ~50 mm2)
HAIR_MARGIN_MM = 1.5  # grown by this, so lesions are not reported on hair edges
CLIPPED_VALUE = 254  # 8-bit: a channel this high is saturated, its optical density meaningless
CLIPPED_MARGIN_MM = 0.5  # ... and the blur around a clipped area is excluded with it
HAIR_CLOSE_MM = 1.0  # dark strands closer than ~2x this are one hair area

# --- candidates ---------------------------------------------------------------------------------------
NOISE_K = 3.0  # at fine scales a peak must also exceed this many robust sigmas (1.48 MAD) of its map over
NOISE_MAX_SIGMA = 2.0  # ... the skin (constant false-alarm rate on noisy/JPEG photos); at larger scales
# the spread of a map is anatomy, not noise, and the fixed thresholds alone apply
NOISE_SUBSAMPLE = 7  # every 7th skin pixel is enough for the median
CHROMA_MIN_SIGMA = 2.0  # crop px: JPEG and camera chroma is subsampled 2x, finer colour detail is noise
BLOB_RADIUS_PER_SIGMA = float(np.sqrt(2.0))  # a LoG of scale sigma answers best to a disc of radius sqrt(2) sigma
NMS_OVERLAP = 1.0  # two candidates closer than this x the larger radius are one lesion

# --- measurement --------------------------------------------------------------------------------------
SURROUND_INNER, SURROUND_OUTER = 2.0, 3.0  # surround annulus, in blob radii: skin next to the lesion (mean)
LARGE_SIGMA = 8.0  # crop px: for blobs this large (>= ~8 mm) 2-3 radii reach other parts of the face, so
LARGE_SURROUND_INNER, LARGE_SURROUND_OUTER = 1.5, 2.2  # ... their surround is taken closer
SURROUND_PLANE_MIN_SKIN = 1.0  # the gradient is fitted only on a (nearly) closed ring of skin, else the mean
SURROUND_PLANE_MIN_PX = 12  # fewer surround pixels than this: their mean (a plane needs a spread of points)
MIN_SURROUND_SKIN = 0.35  # at least this share of the annulus must be analysable skin (else: at a border)
SEGMENT_LEVEL = 0.5  # the lesion is where the contrast is >= half its peak contrast ...
PEAK_PERCENTILE = 90  # ... the peak being this percentile of the contrast within the blob's radius
MAX_OUTSIDE_SKIN = 0.25  # segments reaching further out of the skin than this are edges of excluded parts
WINDOW_RADII = 3.0  # the segment is searched within this many blob radii (scales are an octave apart) ...
RETRY_SCALES = 2  # an open segment is retried at up to this many larger scales
RESPONSE_SEGMENT_MIN_SIGNIFICANCE = 3.0  # ... and so are strong blobs of any size on a colour gradient
RESPONSE_SEGMENT_MIN_SIGMA = 8.0  # crop px (~8 mm patches): open patches this large are segmented on their response
OPEN_MAX_FRACTION = 0.04  # ... and may touch that circle on at most this share of it (else: an edge, a ridge)
CENTRE_FRACTION = 0.4  # "centre" = within this fraction of the segment's equivalent radius
SCORE_BASE = 0.5  # score = 1 - SCORE_BASE ** (response / threshold): 0.5 at threshold, 0.75 at 2x


@dataclass(frozen=True)
class Candidate:
    x: float  # crop px
    y: float
    sigma: float  # crop px
    channel: int  # DARK / MEL / HEM
    polarity: int  # +1: more OD (darker, browner, redder) than around; -1: brighter
    response: float  # polarity x LoG response, OD
    significance: float  # response / threshold
    level: int = 0  # pyramid level of its map (measured at that resolution)

    @property
    def radius(self) -> float:
        return BLOB_RADIUS_PER_SIGMA * self.sigma


@dataclass
class Lesion:
    """One measured blob, crop px unless named otherwise."""

    candidate: Candidate
    x: float
    y: float
    area_px: float
    diameter_mm: float
    contrast: np.ndarray  # (3,) OD, lesion mean - surround median, per channel (dark, mel, hem)
    centre_bright: float  # OD: lesion body darkness - centre darkness (> 0: lighter centre, e.g. a pus head)
    elongation: float  # major / minor axis (>= 1)
    solidity: float  # area / convex hull area
    contour: np.ndarray  # (N, 2) crop px
    box: tuple[float, float, float, float]  # left, top, right, bottom, crop px
    score: float
    angle: float = 0.0  # radians, direction of the segment's major axis (crop x right, y down)
    extras: dict[str, float] = field(default_factory=dict)

    @property
    def redness(self) -> float:
        """Share of hemoglobin in the lesion's pigment contrast: 1 all red, 0 all brown."""
        mel, hem = max(float(self.contrast[MEL]), 0.0), max(float(self.contrast[HEM]), 0.0)
        return hem / (mel + hem) if mel + hem > 1e-6 else 0.5


@dataclass(frozen=True)
class Detector:
    """Which maps to search: per (channel, polarity) a threshold (OD response), and the scales."""

    thresholds: dict[tuple[int, int], float]
    scales: tuple[str, ...]  # lesion_blobs output names
    max_sigma_mm: float = 99.0  # ignore scales whose blobs would be larger than this
    max_candidates: int = 100  # most significant darker/coloured places measured (bounds the time on busy skin)
    max_light_candidates: int = 30  # ... and lighter ones
    max_peaks: int = 60  # strongest peaks kept per map and channel (bounds the work on very busy skin)
    max_sigma: dict[tuple[int, int], float] = field(default_factory=dict)  # per (channel, polarity), crop px
    # worth_measuring(candidate, response vector at its peak) -> bool: a cheap pre-check of the analyzer's
    # own rules, so that only candidates that could be reported are measured
    worth_measuring: Callable[[Candidate, np.ndarray], bool] | None = None


# --- shared per-face data ---------------------------------------------------------------------------
def channels(ctx: FaceContext) -> np.ndarray:
    """(512, 512, 3) float32 dark/mel/hem OD of the crop, once per face."""
    return lb.channels_of(ctx)


def skin_reference(ctx: FaceContext) -> np.ndarray:
    """Median (dark, mel, hem) of the face's plain skin."""

    def compute(c: FaceContext) -> np.ndarray:
        chans = channels(c)
        mask = np.zeros(chans.shape[:2], bool)
        for name in SKIN_REFERENCE_REGIONS:
            mask |= c.regions.mask(name) > 0
        if mask.sum() < 50:
            mask = c.regions.mask("skin") > 0
        return np.median(chans[mask], axis=0) if mask.any() else np.zeros(3, np.float32)

    return ctx.cached("lesions:skin_reference", compute)


def analysable_skin(ctx: FaceContext) -> np.ndarray:
    """bool mask: `skin` minus large very dark areas (hair, deep shadow) grown by HAIR_MARGIN_MM."""

    def compute(c: FaceContext) -> np.ndarray:
        skin = c.regions.mask("skin") > 0
        # Clipped (over-exposed) pixels have no colour to decompose: one saturated channel fakes pigment.
        lim = CLIPPED_VALUE - 1
        clipped = (cv2.inRange(c.crop, (0, 0, 0), (lim, lim, lim)) == 0).astype(np.uint8)  # any channel >= it
        if clipped.any():
            grow = max(int(round(CLIPPED_MARGIN_MM / c.mm_per_px)), 1)
            clipped = cv2.dilate(clipped, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
            skin &= clipped == 0
        # Over the whole crop (fringe strands over the forehead join the hair mass above the face),
        # closed so that strands with skin between them form one area.
        dark = (channels(c)[..., DARK] >= skin_reference(c)[DARK] + HAIR_DARK_OD).astype(np.uint8)
        close = max(int(round(HAIR_CLOSE_MM / c.mm_per_px)), 1)
        dark = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * close + 1,) * 2))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
        min_area = HAIR_MIN_AREA_MM2 / c.mm_per_px**2
        big = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= min_area)
        big = big[big > 0]
        hair = np.isin(labels, big).astype(np.uint8) if big.size else np.zeros_like(dark)
        c.cached("lesions:hair", lambda _c: hair > 0)
        if big.size:
            grow = max(int(round(HAIR_MARGIN_MM / c.mm_per_px)), 1)
            hair = cv2.dilate(hair, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
            skin &= hair == 0
        return skin

    return ctx.cached("lesions:analysable_skin", compute)


def maps(ctx: FaceContext, store: ModelStore) -> dict[str, np.ndarray]:
    return lb.blob_maps(ctx, store)


# --- candidates -----------------------------------------------------------------------------------------
def _scale_of(name: str) -> float:
    return float(name.split("_s")[1])


def find_candidates(blob_maps: dict[str, np.ndarray], where: np.ndarray, detector: Detector,
                    mm_per_px: float) -> list[Candidate]:
    """Local maxima (3x3) above threshold inside `where` (crop-size bool mask), one per lesion (NMS)."""
    size = where.shape[0]
    found: list[Candidate] = []
    noise: dict[tuple[str, int], float] = {}
    planes: dict[tuple[int, int, int], np.ndarray] = {}
    for name in detector.scales:
        sigma = _scale_of(name)
        if BLOB_RADIUS_PER_SIGMA * sigma * 2 * mm_per_px > detector.max_sigma_mm:
            continue
        resp_all = blob_maps[name]
        h = resp_all.shape[0]
        f = size / h
        inside = where if h == size else cv2.resize(where.astype(np.uint8), (h, h), interpolation=cv2.INTER_AREA) > 0
        for (ch, pol), base_thr in detector.thresholds.items():
            if (ch != DARK and sigma < CHROMA_MIN_SIGMA) or sigma > detector.max_sigma.get((ch, pol), np.inf):
                continue
            resp = _signed(resp_all, ch, pol, planes)
            thr = base_thr
            if sigma <= NOISE_MAX_SIGMA:  # the spread is the same for both polarities: once per map and channel
                if (name, ch) not in noise:
                    noise[(name, ch)] = noise_sigma(resp, inside)
                thr = max(base_thr, NOISE_K * noise[(name, ch)])
            peak = (resp >= cv2.dilate(resp, np.ones((3, 3), np.uint8))) & (resp >= thr) & inside
            ys, xs = np.nonzero(peak)
            if ys.size == 0:
                continue
            vals = resp[ys, xs]
            if vals.size > detector.max_peaks:
                keep = np.argsort(-vals)[:detector.max_peaks]
                ys, xs, vals = ys[keep], xs[keep], vals[keep]
            level = int(round(np.log2(f)))
            for y, x, v in zip(ys, xs, vals, strict=True):
                cand = Candidate(x=(x + 0.5) * f - 0.5, y=(y + 0.5) * f - 0.5, sigma=sigma, channel=ch,
                                 polarity=pol, response=float(v), significance=float(v / thr), level=level)
                if detector.worth_measuring is None or detector.worth_measuring(cand, resp_all[y, x]):
                    found.append(cand)
    # Per polarity: a lighter head inside a darker/redder body (a pustule) is kept as its own
    # candidate; `deduplicate` folds it into the body after measurement.
    # Each polarity has its own budget, so faint light heads are not crowded out by coloured blobs.
    darker = suppress([c for c in found if c.polarity > 0])[:detector.max_candidates]
    lighter = suppress([c for c in found if c.polarity < 0])[:detector.max_light_candidates]
    return sorted(darker + lighter, key=lambda c: -c.significance)


def _signed(resp_all: np.ndarray, ch: int, pol: int, planes: dict[tuple[int, int, int], np.ndarray]) -> np.ndarray:
    """polarity x channel plane of a map, contiguous (cached per call of find_candidates)."""
    key = (id(resp_all), ch, pol)
    if key not in planes:
        plane = channel_values(resp_all, ch)
        planes[key] = np.ascontiguousarray(-plane if pol < 0 else plane)
    return planes[key]


def noise_sigma(resp: np.ndarray, inside: np.ndarray) -> float:
    """Robust spread (1.48 x median absolute deviation) of a response map over the skin."""
    vals = resp[inside][::NOISE_SUBSAMPLE]
    if vals.size < 10:
        return 0.0
    return float(1.4826 * np.median(np.abs(vals - np.median(vals))))


def suppress(cands: Iterable[Candidate]) -> list[Candidate]:
    """Greedy non-maximum suppression over places: the most significant candidate of a place wins."""
    ordered = sorted(cands, key=lambda c: -c.significance)
    if not ordered:
        return []
    xy = np.array([(c.x, c.y) for c in ordered])
    radii = np.array([c.radius for c in ordered])
    alive = np.ones(len(ordered), bool)
    kept: list[Candidate] = []
    for i, c in enumerate(ordered):
        if not alive[i]:
            continue
        kept.append(c)
        d = np.hypot(xy[i + 1:, 0] - c.x, xy[i + 1:, 1] - c.y)
        alive[i + 1:] &= d >= NMS_OVERLAP * np.maximum(radii[i + 1:], c.radius)
    return kept


def _inside(lesion: Lesion, x: float, y: float) -> bool:
    """(x, y) within the lesion's segment (its outer contour, 1 px tolerance)."""
    box = lesion.box
    if not (box[0] - 1 <= x <= box[2] + 1 and box[1] - 1 <= y <= box[3] + 1):
        return False
    if len(lesion.contour) < 3:
        return True
    return cv2.pointPolygonTest(lesion.contour.astype(np.float32), (float(x), float(y)), True) >= -1.0


def deduplicate(lesions: list[Lesion]) -> list[Lesion]:
    """Two candidates that segment into the same blob (one's centre inside the other's segment): keep the
    higher-scoring one; a lighter blob inside a darker/redder one is that lesion's head (the darker
    one is kept and carries it as `centre_bright`)."""
    kept: list[Lesion] = []
    order = sorted(lesions, key=lambda x: (x.candidate.polarity < 0, -x.score))
    for les in order:
        if any(_inside(k, les.x, les.y) or _inside(les, k.x, k.y) for k in kept):
            continue
        kept.append(les)
    return kept


# --- measurement -------------------------------------------------------------------------------------
def score_of(significance: float) -> float:
    return float(np.clip(1.0 - SCORE_BASE**significance, 0.0, 1.0))


def measure(cand: Candidate, chans: np.ndarray, skin: np.ndarray, mm_per_px: float,
            why: list[str] | None = None, resp: np.ndarray | None = None) -> Lesion | None:
    """Contrast, segment and shape of one candidate; None when it is not a closed blob on skin.

    `chans`/`skin` are at the candidate's pyramid level (1/2**level of the crop): a large blob is
    measured in a small window there; `resp` is the candidate's own response map (polarity applied,
    same level), the fallback segmentation of large soft patches. Everything returned is in crop px."""
    f = 2**cand.level
    size = chans.shape[0]
    lx, ly = (cand.x + 0.5) / f - 0.5, (cand.y + 0.5) / f - 0.5
    r = max(cand.radius / f, 1.0)
    mm_per_px = mm_per_px * f
    half = int(np.ceil(WINDOW_RADII * r)) + 2
    cx, cy = int(round(lx)), int(round(ly))
    x0, x1 = max(cx - half, 0), min(cx + half + 1, size)
    y0, y1 = max(cy - half, 0), min(cy + half + 1, size)
    win = chans[y0:y1, x0:x1]
    sk = skin[y0:y1, x0:x1]
    dxs, dys = np.arange(x0, x1) - lx, (np.arange(y0, y1) - ly)[:, None]
    dist = np.sqrt(dxs * dxs + dys * dys)
    inner_r, outer_r = (LARGE_SURROUND_INNER, LARGE_SURROUND_OUTER) if cand.sigma >= LARGE_SIGMA else (
        SURROUND_INNER, SURROUND_OUTER)
    ring = (dist >= inner_r * r) & (dist <= outer_r * r)
    ring_skin = ring & sk
    if ring_skin.sum() < MIN_SURROUND_SKIN * max(ring.sum(), 1):
        return _reject(why, "surround not skin")
    if ring_skin.sum() >= SURROUND_PLANE_MIN_SKIN * ring.sum():  # (h, w, 3): the skin's own gradient under it
        background = surround_plane(win, ring_skin, dxs, dys)
    else:  # a one-sided ring (at the skin's border) would extrapolate the slope towards hair or a feature
        background = np.broadcast_to(win[ring_skin].mean(axis=0), win.shape)
    disc = dist <= max(r, 1.0)
    # Segment on the detection channel at half the lesion's contrast, taken as the 90th percentile
    # inside the blob (robust, and a ring-shaped lesion, a red pustule round its pale head, keeps it).
    c, p = cand.channel, cand.polarity
    v = p * (channel_values(win, c) - channel_values(background, c))
    vd = v[disc]
    k = min(int(PEAK_PERCENTILE / 100 * (vd.size - 1) + 0.5), vd.size - 1)
    peak = float(np.partition(vd, k)[k])
    if peak <= 0:
        return _reject(why, "no contrast")
    seg = ((v >= SEGMENT_LEVEL * peak) & (dist <= WINDOW_RADII * r)).astype(np.uint8)
    n, labels = cv2.connectedComponents(seg, connectivity=8)
    inner = labels[disc & (seg > 0)]
    if inner.size == 0:
        return _reject(why, "no segment")
    label = np.bincount(inner).argmax()
    comp = labels == label
    rim = (dist > WINDOW_RADII * r - 1.0) & (dist <= WINDOW_RADII * r)
    if comp[rim].sum() > OPEN_MAX_FRACTION * max(rim.sum(), 1):
        # A large, soft patch on a face with shading gradients rarely closes at half contrast in the
        # raw channel; its blob response does (the LoG's negative surround bounds it).
        comp = None
        if resp is not None and (cand.sigma >= RESPONSE_SEGMENT_MIN_SIGMA
                                 or cand.significance >= RESPONSE_SEGMENT_MIN_SIGNIFICANCE):
            rv = resp[y0:y1, x0:x1]
            rseg = ((rv >= SEGMENT_LEVEL * float(rv[disc].max())) & (dist <= WINDOW_RADII * r)).astype(np.uint8)
            _, rlab = cv2.connectedComponents(rseg, connectivity=8)
            rin = rlab[disc & (rseg > 0)]
            if rin.size:
                comp = rlab == np.bincount(rin).argmax()
                if comp[rim].sum() > OPEN_MAX_FRACTION * max(rim.sum(), 1):
                    comp = None
        if comp is None:
            return _reject(why, "open segment")  # an edge or a ridge, not a blob
    comp &= dist < WINDOW_RADII * r - 1.0
    area = float(comp.sum())
    if 1.0 - sk[comp].mean() > MAX_OUTSIDE_SKIN:
        return _reject(why, "segment leaves the skin")
    contrast = (win[comp] - background[comp]).mean(axis=0)
    ys, xs = np.nonzero(comp)
    mx, my = xs.mean(), ys.mean()
    if xs.size >= 3:  # axis ratio from the second moments (+1/4: a pixel's own spread)
        ddx, ddy = xs - mx, ys - my
        sxx, syy, sxy = float((ddx * ddx).mean()), float((ddy * ddy).mean()), float((ddx * ddy).mean())
        half_tr, disc2 = (sxx + syy) / 2, np.sqrt(max(((sxx - syy) / 2) ** 2 + sxy * sxy, 0.0))
        elongation = float(np.sqrt((half_tr + disc2 + 0.25) / max(half_tr - disc2 + 0.25, 1e-6)))
        angle = float(0.5 * np.arctan2(2.0 * sxy, sxx - syy))
    else:
        elongation, angle = 1.0, 0.0
    contours, _ = cv2.findContours(comp.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contour = max(contours, key=cv2.contourArea).reshape(-1, 2).astype(np.float64)
    hull_area = cv2.contourArea(cv2.convexHull(contour.astype(np.float32)))
    solidity = float(min(area / max(hull_area + 0.5 * len(contour), 1.0), 1.0)) if len(contour) >= 3 else 1.0
    eq_r = np.sqrt(area / np.pi)
    # Centre = every pixel near the centroid (a pus head may fall out of a red segment); body = the
    # segment beyond it.
    cdx, cdy = np.arange(x1 - x0) - mx, (np.arange(y1 - y0) - my)[:, None]
    dcen = np.sqrt(cdx * cdx + cdy * cdy)
    centre = dcen <= max(CENTRE_FRACTION * eq_r, 1.0)
    body = comp & ~centre
    dark = win[..., DARK]
    centre_bright = float(dark[body].mean() - dark[centre].mean()) if body.any() and centre.any() else 0.0
    # Level px -> crop px (pixel centres: (p + 0.5) * f - 0.5; box edges: e * f).
    contour = (contour + [x0, y0] + 0.5) * f - 0.5
    return Lesion(
        candidate=cand, x=float((mx + x0 + 0.5) * f - 0.5), y=float((my + y0 + 0.5) * f - 0.5),
        area_px=area * f * f, diameter_mm=float(2.0 * eq_r * mm_per_px), contrast=contrast.astype(np.float64),
        centre_bright=centre_bright, elongation=elongation, solidity=solidity, contour=contour,
        box=(float((xs.min() + x0) * f), float((ys.min() + y0) * f), float((xs.max() + x0 + 1) * f),
             float((ys.max() + y0 + 1) * f)),
        score=score_of(cand.significance), angle=angle,
    )


def surround_plane(win: np.ndarray, ring: np.ndarray, dxs: np.ndarray, dys: np.ndarray) -> np.ndarray:
    """Per channel, the plane a + b dx + c dy fitted (least squares) to the surround ring's skin: the local
    background follows the skin's own gradient (cheek shading, a side light), so a lesion on a slope is
    measured against the skin under it, not against the ring's mean (which leaves half the slope in)."""
    ys, xs = np.nonzero(ring)
    n = xs.size
    vals = win[ys, xs].astype(np.float64)
    if n < SURROUND_PLANE_MIN_PX:
        return np.broadcast_to(vals.mean(axis=0) if n else np.zeros(win.shape[-1]), win.shape).astype(np.float32)
    gx, gy = dxs[xs].astype(np.float64), dys[ys, 0].astype(np.float64)
    a = np.stack([np.ones(n), gx, gy], axis=1)
    ata = a.T @ a
    if abs(np.linalg.det(ata)) < 1e-9 * n**3:  # degenerate spread (a line of points)
        return np.broadcast_to(vals.mean(axis=0), win.shape).astype(np.float32)
    coef = np.linalg.solve(ata, a.T @ vals)  # (3, channels), normal equations
    return (coef[0] + dxs[None, :, None] * coef[1] + dys[..., None] * coef[2]).astype(np.float32)


def pyramid(ctx: FaceContext, level: int) -> tuple[np.ndarray, np.ndarray]:
    """(channels, analysable skin) at 1/2**level of the crop, as the model pools (block means)."""

    def compute(c: FaceContext) -> tuple[np.ndarray, np.ndarray]:
        skin = analysable_skin(c)
        if level == 0:
            return channels(c), skin
        return lb.pool(channels(c), level), lb.pool(skin.astype(np.float32), level) >= 0.5

    return ctx.cached(f"lesions:pyramid{level}", compute)


def _measure_at(ctx: FaceContext, blob_maps: dict[str, np.ndarray], cand: Candidate,
                why: list[str] | None) -> Lesion | None:
    chans, skin = pyramid(ctx, cand.level)
    resp = None
    if cand.sigma >= RESPONSE_SEGMENT_MIN_SIGMA or cand.significance >= RESPONSE_SEGMENT_MIN_SIGNIFICANCE:
        resp = channel_values(blob_maps[f"blob_s{int(round(cand.sigma))}"], cand.channel) * cand.polarity
    return measure(cand, chans, skin, ctx.mm_per_px, why, resp=resp)


def _larger_scales(blob_maps: dict[str, np.ndarray], cand: Candidate, threshold: float) -> list[Candidate]:
    """The same place at each larger scale whose response still exceeds `threshold`."""
    out = []
    size = next(iter(blob_maps.values())).shape[0]
    for name, m in blob_maps.items():
        sigma = _scale_of(name)
        if sigma <= cand.sigma or (cand.channel != DARK and m.shape[-1] < 3):
            continue
        f = size / m.shape[0]
        x = int(np.clip(round((cand.x + 0.5) / f - 0.5), 0, m.shape[1] - 1))
        y = int(np.clip(round((cand.y + 0.5) / f - 0.5), 0, m.shape[0] - 1))
        v = float(channel_values(m[y, x], cand.channel)) * cand.polarity
        if v >= threshold:
            out.append(Candidate(x=cand.x, y=cand.y, sigma=sigma, channel=cand.channel, polarity=cand.polarity,
                                 response=v, significance=v / threshold, level=int(round(np.log2(f)))))
    return sorted(out, key=lambda c: c.sigma)


def _reject(why: list[str] | None, reason: str) -> None:
    if why is not None:
        why.append(reason)
    return None


def find_lesions(ctx: FaceContext, store: ModelStore, detector: Detector, where: np.ndarray) -> list[Lesion]:
    """Candidates inside `where` (bool crop mask) and the analysable skin, measured. A candidate whose
    segment does not close is retried at the larger scales at the same place (a big, soft patch often
    peaks first at a small scale, on its texture), while the response there stays above threshold."""
    blob_maps = maps(ctx, store)
    cands = find_candidates(blob_maps, where & analysable_skin(ctx), detector, ctx.mm_per_px)
    out = []
    for cand in cands:
        why: list[str] = []
        lesion = _measure_at(ctx, blob_maps, cand, why)
        limit = detector.max_sigma.get((cand.channel, cand.polarity), np.inf)
        if lesion is None and why == ["open segment"] and cand.sigma < limit:
            thr = cand.response / cand.significance
            for bigger in _larger_scales(blob_maps, cand, thr)[:RETRY_SCALES]:
                if bigger.sigma > limit:
                    break
                lesion = _measure_at(ctx, blob_maps, bigger, None)
                if lesion is not None:
                    break
        if lesion is not None:
            out.append(lesion)
    # Within each polarity; a lighter blob inside a darker one (a pustule's head) is folded by the caller
    # after classification, so that a rejected blob does not hide a real one inside it.
    return (deduplicate([x for x in out if x.candidate.polarity > 0])
            + deduplicate([x for x in out if x.candidate.polarity < 0]))


# --- output helpers ------------------------------------------------------------------------------------
def r2(value: float) -> float:
    return round(float(value), 2)


def box_to_original(ctx: FaceContext, box: tuple[float, float, float, float]) -> dict[str, float]:
    left, top, right, bottom = ctx.crop_box_to_original(*box)
    return {"left": r2(left), "top": r2(top), "right": r2(right), "bottom": r2(bottom)}


def points_to_original(ctx: FaceContext, pts: np.ndarray) -> list[dict[str, float]]:
    if len(pts) == 0:
        return []
    orig = ctx.crop_to_original(np.asarray(pts, np.float64))
    return [{"x": r2(x), "y": r2(y)} for x, y in orig]


def region_union(ctx: FaceContext, names: Iterable[str]) -> np.ndarray:
    mask = np.zeros((ctx.crop_size, ctx.crop_size), bool)
    for name in names:
        mask |= ctx.regions.mask(name) > 0
    return mask
