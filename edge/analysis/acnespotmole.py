"""`acnespotmole`: acne (whitehead, acne mark, pustule, nodule), speckles (chloasma, freckle, sunburn,
age spot) and moles, from the `lesion_blobs` model's multi-scale blob maps.

Blobs are found and measured by `lesions.py`; here each measured lesion gets a family and a type from
named rules on its colour (hemoglobin vs melanin share of its contrast), darkness, size in mm (the
face's IPD as scale), shape and centre brightness. `classify()` is a pure function of those features
so every rule is tested on its own (tests/unit/test_acnespotmole_rules.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np

from edge.analysis import lesions as les
from edge.analysis.base import register

if TYPE_CHECKING:
    from edge.face.context import FaceContext
    from edge.runtime.manifest import ModelStore

ACNE, SPECKLE, MOLE = "acne", "speckle", "mole"
WHITEHEAD, ACNE_MARK, PUSTULE, NODULE = 0, 1, 2, 3  # seed acne types
CHLOASMA, FRECKLE, SUNBURN, AGE_SPOT = 0, 1, 2, 3  # seed speckle types

# --- detection (OD response of the -sigma^2 LoG: ~0.74 x a disc's contrast at its own scale) ----------
DETECT_DARK = 0.12  # darker blobs: only moles are found by darkness alone (>= MOLE_MIN_DARK_OD contrast)
DETECT_MEL = 0.05  # browner blobs (speckles)
DETECT_HEM = 0.045  # redder blobs (acne, sunburn)
DETECT_BRIGHT = 0.06  # lighter blobs (whitehead heads), dark channel
DETECT_PALE = 0.06  # paler blobs (less blood: a whitehead's cream head on light skin), hemoglobin channel
MIN_LESION_MM = 0.7  # smaller segments are skin texture, pores or noise
MIN_SIGNIFICANCE = 1.2  # blob response / detection threshold: closer to the threshold is the noise floor
MIN_COLOUR_OD = 0.15  # a visible spot holds >= 0.15 OD more melanin + hemoglobin than its skin (~14 %
# more absorbance); less is ordinary mottling, make-up or blush
SHADED_ZONES = ("nose", "nasolabial_left", "nasolabial_right")  # curved or folded skin: its shading ...
SHADED_ZONE_FACTOR = 2.0  # ... tints like pigment (inter-reflection), so spots there need 2x the colour
INFLAMED_MIN_HEM_OD = 0.15  # pustules, nodules and sunburn are clearly redder than their skin
LARGE_SPOT_MM = 8.0  # spots this large are seen at lower contrast (contrast sensitivity grows with size):
LARGE_SPOT_MIN_COLOUR_OD = 0.08  # ... their colour threshold
MAX_ELONGATION = 2.0  # point lesions are round or oval (axes <= 2:1); longer segments are folds or edges
LARGE_MAX_ELONGATION = 3.0  # large patches (melasma, sunburn) are irregular, "geographic"
MIN_SOLIDITY = 0.75  # point lesions are compact (area / convex hull); ragged segments are shading of relief
# Mouth corners, lower lids and nasolabial folds ...
FOLD_ZONES = ("perioral", "under_eye_left", "under_eye_right", "nasolabial_left", "nasolabial_right")
FOLD_ZONE_GROW_MM = 3.0  # ... grown by this: where folds, dimples and under-eye shadows mimic spots
BILATERAL_MIN, BILATERAL_MAX = 0.6, 1.67  # in a fold zone, a "spot" matched at the mirrored place by a
# response of similar strength (0.6-1.67x) is anatomy (fold ends, dimples, under-eye shadows come in pairs;
# lesions do not; a much stronger mirrored response is something else) ...
BILATERAL_STRONG_OD = 0.35  # ... unless its pigment contrast is this strong (a real lesion at a fold)
FAINT_PATCH_MAX_OD = 0.2  # a large (>= LARGE_SPOT_MM) patch this faint (melanin + hemoglobin) ...
FAINT_PATCH_MIN_ELONGATION = 1.7  # ... this stretched (diffuse, following the relief) ...
FAINT_PATCH_MIN_BILATERAL = 0.8  # ... and matched this strongly at the mirrored place is the face's own shading
# or mottling (a real chloasma may be bilateral too, but is darker or rounder: all three must hold)
LID_REACH_MM = 8.0  # a light blob within this of both an eye and a brow lies on the upper lid or brow bone,
# whose relief catches the light (a highlight, not a whitehead or a pustule head)
LIGHT_BILATERAL_MAX = 1.0  # a light blob matched at least as strongly at the mirrored place is a highlight
# of the face's relief (cheekbones, brow ridge, lower lids), anywhere on the face
FOLD_LINE_MIN_ELONGATION = 1.5  # an oval segment this elongated ...
FOLD_LINE_MAX_ANGLE_DEG = 25.0  # ... whose long axis runs within this of the nearest facial outline ...
FOLD_LINE_REACH_MM = 6.0  # ... that close to it is a section of a fold or feature border running along that
# outline (nasolabial and mentolabial folds, lip border, lower-lid crease); lesions are oriented at random
FOLD_ON_MM = 1.5  # a not-inflamed spot centred this close to a fold line in a shaded zone is the fold's end or
# crossing (shadow tinted by inter-reflection) unless its pigment reaches BILATERAL_STRONG_OD
HAIRLINE_MM = 4.5  # fringe strands and their shadows reach this far beyond the detected hair mass: a spot
# there that is not red (strands are brown) and not dark enough for a mole, or a light gap between strands,
# is hair, not a lesion

SHADOW_GREY_OD = 0.03  # a not-inflamed, moderately dark (< MOLE_MIN_DARK_OD) spot whose darkness exceeds what
# its melanin + hemoglobin explain by this much (grey OD, the decomposition's shading axis) is a shadow (inner
# eye corner, nose flank, fold): flat pigment (freckles, marks, patches) darkens only through its pigment;
# very dark lesions (deep, blue-black melanin) may hold grey and are left to the rules below
# Darkness per unit melanin / hemoglobin OD (the luma weights applied to their RGB OD vectors).
DARK_PER_MEL = float(np.dot(les.lb.LUMA_WEIGHTS, les.lb.ref.MELANIN_OD))
DARK_PER_HEM = float(np.dot(les.lb.LUMA_WEIGHTS, les.lb.ref.HEMOGLOBIN_OD))

# --- family by colour ----------------------------------------------------------------------------------
RED_MIN_REDNESS = 0.75  # hemoglobin >= 75 % of the pigment contrast: an inflamed (red) lesion
BROWN_MAX_REDNESS = 0.35  # <= 35 %: brown pigment (speckle or mole); in between: red-brown
# --- moles ---------------------------------------------------------------------------------------------
MOLE_MIN_DARK_OD = 0.30  # a mole is much darker than its skin (>= 26 % less light)
MOLE_MIN_MM, MOLE_MAX_MM = 1.0, 10.0  # common acquired naevi are 1-10 mm
MOLE_MAX_ELONGATION = 2.0  # moles are round or oval
MOLE_MAX_REDNESS = 0.5  # a mole is brown-black, not red
NOSE_DOT_MAX_MM = 1.6  # dark dots this small on the nose are blackheads (blackheadpore), not moles
# --- speckles ------------------------------------------------------------------------------------------
FAINT_FRECKLE_MAX_OD = 0.2  # a freckle-sized brown dot with less pigment than this ...
FAINT_FRECKLE_MIN_SIGNIFICANCE = 2.1  # ... must stand this far above the noise floor (else it is mottling)
FRECKLE_MAX_MM = 4.0  # freckles (ephelides) are small; larger flat brown spots are age spots
CHLOASMA_MIN_MM = 10.0  # melasma comes as large patches (> 1 cm); lentigines (age spots) are smaller
SUNBURN_MIN_MEL_OD = 0.04  # a 5-8.5 mm red patch that also holds this much melanin is tanned: sunburn
SUNBURN_MIN_MM = 8.5  # a red or red-brown patch of ~1 cm (measured at half contrast: 8.5 mm) is sun damage, not acne
# --- acne ----------------------------------------------------------------------------------------------
WHITEHEAD_MAX_MM = 3.0  # closed comedones are small
WHITEHEAD_MAX_ELONGATION = 2.0  # ... and round (specular streaks are long)
GLINT_MAX_SAT_RATIO = 0.25  # a specular glint is colourless (the light's colour, not the skin's) ...
GLINT_MIN_VALUE = 250.0  # ... and clipped or nearly (8-bit); a whitehead is a diffuse, duller white
PUSTULE_CENTRE_OD = 0.04  # a red lesion whose centre is this much lighter than its body has a pus head
PUSTULE_HALO_HEM_OD = 0.08  # a light head ringed by skin this much redder than further out is a pustule
PUSTULE_HEAD_MIN_MM = 0.4  # ... and its head can be this small
NODULE_MIN_MM = 5.0  # red lesions this large are nodules
ACNE_MARK_MAX_REDNESS = 0.8  # red-brown, flat marks: below this redness and no raised head
ACNE_MARK_MIN_HEM_OD = 0.11  # an acne mark is post-inflammatory: it keeps visible redness (else: a speckle
# or the cheek's own red-brown mottling)


@dataclass(frozen=True)
class Features:
    """What the rules look at (all measured by lesions.measure)."""

    polarity: int  # +1 more OD than skin, -1 lighter
    diameter_mm: float
    dark: float  # darkness contrast, OD
    mel: float  # melanin contrast, OD
    hem: float  # hemoglobin contrast, OD
    centre_bright: float  # OD, > 0: lighter centre
    elongation: float
    on_nose: bool = False
    in_shaded_zone: bool = False
    in_fold_zone: bool = False
    halo_hem: float = 0.0  # lighter blobs: hemoglobin of the ring round the head minus the skin further out
    sat_ratio: float = 1.0  # centre saturation / surround saturation (lighter blobs only)
    centre_value: float = 0.0  # brightest 8-bit channel at the centre (lighter blobs only)
    bilateral: float = 0.0  # mirrored-place response / own response
    significance: float = 9.0  # blob response / its detection threshold
    solidity: float = 1.0  # segment area / its convex hull's
    hair_mm: float = 99.0  # distance to the nearest hair / deep-shadow area (lesions.hair_distance_mm)
    outline_mm: float = 99.0  # distance to the nearest facial outline (lips, eyes, nasolabial line)
    outline_align: float = 0.0  # |cos| of the angle between the segment's major axis and that outline
    eye_mm: float = 99.0  # distance to the nearest eye
    brow_mm: float = 99.0  # distance to the nearest brow

    @property
    def grey(self) -> float:
        """Darkness not explained by the pigment contrasts (OD on the shading axis): shadows, relief."""
        return self.dark - DARK_PER_MEL * self.mel - DARK_PER_HEM * self.hem

    @property
    def redness(self) -> float:
        mel, hem = max(self.mel, 0.0), max(self.hem, 0.0)
        return hem / (mel + hem) if mel + hem > 1e-6 else 0.5


def classify(f: Features) -> tuple[str, int] | None:
    """(family, type) of a lesion, or None when it is none of the three. Type is -1 for moles."""
    if f.polarity < 0 and f.bilateral >= LIGHT_BILATERAL_MAX:
        return None  # a highlight of the face's relief, matched on the other side
    if f.polarity < 0 and on_lid(f):
        return None  # the upper lid's or brow bone's highlight
    if f.polarity < 0 and f.in_shaded_zone and -f.dark < SHADED_ZONE_FACTOR * DETECT_BRIGHT:
        return None  # the nose's and folds' own highlights (before the halo rule: their flanks are redder)
    if f.polarity < 0 and f.halo_hem >= PUSTULE_HALO_HEM_OD and PUSTULE_HEAD_MIN_MM <= f.diameter_mm <= WHITEHEAD_MAX_MM:
        return ACNE, PUSTULE  # a light head ringed by red skin (the head alone may be < MIN_LESION_MM)
    if f.diameter_mm < MIN_LESION_MM:
        return None
    large = f.diameter_mm >= LARGE_SPOT_MM
    if f.significance < MIN_SIGNIFICANCE:
        return None
    headed = f.polarity > 0 and f.centre_bright >= PUSTULE_CENTRE_OD  # its segment is a ring round a head
    if not headed and f.elongation > (LARGE_MAX_ELONGATION if large else MAX_ELONGATION):
        return None
    if not large and not headed and f.solidity < MIN_SOLIDITY:
        return None
    if f.polarity < 0:  # lighter than the skin: a whitehead, or the head of a pustule
        if f.bilateral >= LIGHT_BILATERAL_MAX or f.hair_mm <= HAIRLINE_MM:
            return None
        if f.in_shaded_zone and -f.dark < SHADED_ZONE_FACTOR * DETECT_BRIGHT:
            return None  # the nose's and folds' own highlights
        if f.halo_hem >= PUSTULE_HALO_HEM_OD and f.diameter_mm <= WHITEHEAD_MAX_MM:
            return ACNE, PUSTULE
        glint = f.sat_ratio < GLINT_MAX_SAT_RATIO and f.centre_value >= GLINT_MIN_VALUE
        if f.diameter_mm <= WHITEHEAD_MAX_MM and f.elongation <= WHITEHEAD_MAX_ELONGATION and not glint:
            return ACNE, WHITEHEAD
        return None
    pigment = max(f.mel, 0.0) + max(f.hem, 0.0)
    min_colour = LARGE_SPOT_MIN_COLOUR_OD if f.diameter_mm >= LARGE_SPOT_MM else MIN_COLOUR_OD
    if pigment < min_colour and f.dark < MOLE_MIN_DARK_OD:
        return None  # a shadow or a bump without colour
    if is_mole(f):
        return MOLE, -1
    if symmetric_shading(f):
        return None  # faint, stretched and mirrored on the other side: natural shading or mottling
    if along_fold(f):
        return None  # a section of a fold or feature border, not a round spot
    if f.hair_mm <= HAIRLINE_MM and f.redness < RED_MIN_REDNESS:
        return None  # fringe strands or their shadow
    # Shading tints like pigment but brown (inter-reflection), never clearly red: an inflamed lesion (red,
    # enough hemoglobin) is not held to the shaded-zone colour bar if it is a large patch (sunburn across the
    # cheek-nose fold), nor paired off as fold anatomy.
    inflamed = f.redness >= RED_MIN_REDNESS and f.hem >= INFLAMED_MIN_HEM_OD
    if (f.in_shaded_zone and pigment < SHADED_ZONE_FACTOR * MIN_COLOUR_OD
            and not (inflamed and f.diameter_mm >= LARGE_SPOT_MM)):
        return None  # (large patches too: shading of the nose's flanks is itself a large, soft "patch")
    if (not inflamed and f.in_shaded_zone and f.outline_mm <= FOLD_ON_MM and pigment < BILATERAL_STRONG_OD):
        return None  # on the fold line itself: the fold's end or crossing, not a spot beside it
    if not inflamed and f.grey >= SHADOW_GREY_OD and f.dark < MOLE_MIN_DARK_OD:
        return None  # darker than its colour explains: a shadow tinted by the skin, not a pigmented spot
    if (f.in_fold_zone and BILATERAL_MIN <= f.bilateral <= BILATERAL_MAX and pigment < BILATERAL_STRONG_OD
            and f.diameter_mm < LARGE_SPOT_MM  # folds and dimples are small; large patches (sunburn) may be paired
            and not inflamed):  # fold shading darkens and browns (inter-reflection), it does not redden
        return None
    if f.on_nose and f.diameter_mm <= NOSE_DOT_MAX_MM and f.dark >= MOLE_MIN_DARK_OD:
        return None  # a blackhead: blackheadpore reports it
    r = f.redness
    if r >= RED_MIN_REDNESS:
        large = f.diameter_mm >= LARGE_SPOT_MM
        if f.hem < (LARGE_SPOT_MIN_COLOUR_OD if large else INFLAMED_MIN_HEM_OD):
            return None  # faint pure redness: blush, a flushed chin or nose, not a lesion
        if f.centre_bright >= PUSTULE_CENTRE_OD and f.diameter_mm < SUNBURN_MIN_MM:
            return ACNE, PUSTULE
        if f.diameter_mm >= SUNBURN_MIN_MM:
            return SPECKLE, SUNBURN
        if f.diameter_mm >= NODULE_MIN_MM:
            # a tanned red patch (melanin with the redness) is sun damage; an inflamed nodule is pure red
            return (SPECKLE, SUNBURN) if f.mel >= SUNBURN_MIN_MEL_OD else (ACNE, NODULE)
        return (ACNE, ACNE_MARK) if r < ACNE_MARK_MAX_REDNESS else (ACNE, PUSTULE)
    if r > BROWN_MAX_REDNESS:  # red-brown
        if f.diameter_mm >= SUNBURN_MIN_MM:
            return (SPECKLE, SUNBURN) if f.hem >= LARGE_SPOT_MIN_COLOUR_OD else None
        return (ACNE, ACNE_MARK) if f.hem >= ACNE_MARK_MIN_HEM_OD else None
    if f.diameter_mm >= CHLOASMA_MIN_MM:
        return SPECKLE, CHLOASMA
    if f.diameter_mm > FRECKLE_MAX_MM:
        return SPECKLE, AGE_SPOT
    if pigment < FAINT_FRECKLE_MAX_OD and f.significance < FAINT_FRECKLE_MIN_SIGNIFICANCE:
        return None  # a faint, barely significant brown dot: skin mottling (re-exposed, re-compressed)
    return SPECKLE, FRECKLE


FOLD_LINE_MIN_ALIGN = float(np.cos(np.radians(FOLD_LINE_MAX_ANGLE_DEG)))


def along_fold(f: Features) -> bool:
    """Elongated, near a facial outline (lips, eyes, nasolabial line) and lying along it."""
    return (f.elongation >= FOLD_LINE_MIN_ELONGATION and f.outline_mm <= FOLD_LINE_REACH_MM
            and f.outline_align >= FOLD_LINE_MIN_ALIGN)


def on_lid(f: Features) -> bool:
    """Between an eye and its brow: the upper lid and brow bone (within LID_REACH_MM of both)."""
    return f.eye_mm <= LID_REACH_MM and f.brow_mm <= LID_REACH_MM


def symmetric_shading(f: Features) -> bool:
    """Large, faint, elongated and matched at the mirrored place: the face's own shading or mottling."""
    pigment = max(f.mel, 0.0) + max(f.hem, 0.0)
    return (f.diameter_mm >= LARGE_SPOT_MM and pigment < FAINT_PATCH_MAX_OD
            and f.elongation >= FAINT_PATCH_MIN_ELONGATION and f.bilateral >= FAINT_PATCH_MIN_BILATERAL)


def is_mole(f: Features) -> bool:
    """Dark, brown-black, round, 1-10 mm (and not a blackhead-sized dot on the nose)."""
    if f.on_nose and f.diameter_mm <= NOSE_DOT_MAX_MM:
        return False
    return (f.dark >= MOLE_MIN_DARK_OD and MOLE_MIN_MM <= f.diameter_mm <= MOLE_MAX_MM
            and f.elongation <= MOLE_MAX_ELONGATION and f.redness <= MOLE_MAX_REDNESS)


LIGHT_MAX_SIGMA = 2.0  # crop px: lighter blobs are only searched at whitehead size (<= WHITEHEAD_MAX_MM)
DARK_MAX_SIGMA = 8.0  # crop px: darkness alone is only searched at mole size (<= MOLE_MAX_MM); larger dark
# blobs are shading


DISC_RESPONSE = 2.0 / np.e  # a disc of contrast c answers ~0.74 c at its matched scale (lesion_blobs)
PREFILTER_FRACTION = 0.7  # candidates whose response promises < 70 % of the colour a report needs are skipped


def worth_measuring(cand: les.Candidate, resp: np.ndarray) -> bool:
    """Could this candidate pass `classify`'s colour or darkness rules? (response ~ DISC_RESPONSE x contrast)"""
    if cand.polarity < 0 or resp.shape[-1] < 3:
        return True
    pigment = (max(float(resp[les.MEL]), 0.0) + max(float(resp[les.HEM]), 0.0)) / DISC_RESPONSE
    large = 2 * cand.radius * 0.37 >= LARGE_SPOT_MM  # ~0.37 mm per crop px (IPD scale of a typical face)
    need = (LARGE_SPOT_MIN_COLOUR_OD if large else MIN_COLOUR_OD) * PREFILTER_FRACTION
    return pigment >= need or float(resp[les.DARK]) / DISC_RESPONSE >= MOLE_MIN_DARK_OD * PREFILTER_FRACTION


def detector() -> les.Detector:
    return les.Detector(
        thresholds={(les.DARK, 1): DETECT_DARK, (les.MEL, 1): DETECT_MEL, (les.HEM, 1): DETECT_HEM,
                    (les.DARK, -1): DETECT_BRIGHT, (les.HEM, -1): DETECT_PALE},
        scales=tuple(les.lb.OUTPUTS),
        max_sigma={(les.DARK, -1): LIGHT_MAX_SIGMA, (les.HEM, -1): LIGHT_MAX_SIGMA, (les.DARK, 1): DARK_MAX_SIGMA},
        worth_measuring=worth_measuring,
    )


def _glint_measures(crop: np.ndarray, lesion: les.Lesion) -> tuple[float, float]:
    """(HSV saturation at the lesion's centre over its surround's, the centre's brightest 8-bit channel)."""
    r = max(lesion.candidate.radius, 1.0)
    x, y = int(round(lesion.x)), int(round(lesion.y))
    half = int(np.ceil(les.SURROUND_OUTER * r)) + 1
    x0, y0 = max(x - half, 0), max(y - half, 0)
    patch = crop[y0:y + half + 1, x0:x + half + 1].astype(np.float32)
    mx, mn = patch.max(axis=2), patch.min(axis=2)
    sat = (mx - mn) / np.maximum(mx, 1.0)
    yy, xx = np.mgrid[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]]
    d = np.hypot(xx - lesion.x, yy - lesion.y)
    inner = d <= max(0.5 * r, 1.0)
    centre = sat[inner]
    around = sat[(d >= les.SURROUND_INNER * r) & (d <= les.SURROUND_OUTER * r)]
    if centre.size == 0 or around.size == 0:
        return 1.0, 0.0
    return float(centre.mean() / max(float(np.median(around)), 1e-3)), float(mx[inner].max())


HALO_INNER, HALO_OUTER = 1.5, 3.0  # halo ring round a light head, in head radii (+1 px)
HALO_FAR_INNER, HALO_FAR_OUTER = 5.0, 7.0  # the skin further out it is compared with


def _halo_hem(ctx: FaceContext, lesion: les.Lesion) -> float:
    """Hemoglobin of the ring just round a light blob minus that of the skin further out (OD)."""
    chans = les.channels(ctx)
    skin = les.analysable_skin(ctx)
    r = max(np.sqrt(lesion.area_px / np.pi), 1.0)
    half = int(np.ceil(HALO_FAR_OUTER * r)) + 2
    x, y = int(round(lesion.x)), int(round(lesion.y))
    x0, x1 = max(x - half, 0), min(x + half + 1, chans.shape[1])
    y0, y1 = max(y - half, 0), min(y + half + 1, chans.shape[0])
    yy, xx = np.mgrid[y0:y1, x0:x1]
    d = np.hypot(xx - lesion.x, yy - lesion.y)
    hem, sk = chans[y0:y1, x0:x1, les.HEM], skin[y0:y1, x0:x1]
    near = sk & (d >= HALO_INNER * r) & (d <= HALO_OUTER * r + 1)
    far = sk & (d >= HALO_FAR_INNER * r) & (d <= HALO_FAR_OUTER * r + 1)
    if not near.any() or not far.any():
        return 0.0
    return float(hem[near].mean() - np.median(hem[far]))


OUTLINE_REGIONS = ("lips", "eye_left", "eye_right")  # closed outlines whose borders cast folds and shadows
NASOLABIAL_REGIONS = ("nasolabial_left", "nasolabial_right")  # bands along a fold: their long axis is the fold


def outline_segments(ctx: FaceContext) -> np.ndarray:
    """(N, 2, 2) crop-px segments of the facial outlines along which folds and feature borders run: the lip
    and eye polygons' edges and the nasolabial bands' long axes."""

    def compute(c: FaceContext) -> np.ndarray:
        segs = []
        for name in OUTLINE_REGIONS:
            if name in c.regions.names:
                poly = np.asarray(c.regions.polygon(name), np.float64).reshape(-1, 2)
                segs += [(poly[i], poly[(i + 1) % len(poly)]) for i in range(len(poly))]
        for name in NASOLABIAL_REGIONS:
            if name in c.regions.names:
                poly = np.asarray(c.regions.polygon(name), np.float64).reshape(-1, 2)
                centre = poly.mean(0)
                _, _, vt = np.linalg.svd(poly - centre, full_matrices=False)
                ext = np.abs((poly - centre) @ vt[0]).max()
                segs.append((centre - ext * vt[0], centre + ext * vt[0]))
        return np.asarray(segs, np.float64).reshape(-1, 2, 2)

    return ctx.cached("acnespotmole:outline_segments", compute)


def outline_relation(segs: np.ndarray, x: float, y: float, angle: float) -> tuple[float, float]:
    """(distance in px to the nearest outline segment, |cos| between `angle` and that segment's direction)."""
    if len(segs) == 0:
        return np.inf, 0.0
    a, b = segs[:, 0], segs[:, 1]
    ab = b - a
    ln2 = np.maximum((ab * ab).sum(1), 1e-9)
    t = np.clip(((np.array([x, y]) - a) * ab).sum(1) / ln2, 0.0, 1.0)
    d = np.hypot(*(a + t[:, None] * ab - [x, y]).T)
    i = int(np.argmin(d))
    u = ab[i] / np.sqrt(ln2[i])
    return float(d[i]), float(abs(u[0] * np.cos(angle) + u[1] * np.sin(angle)))


def features_of(ctx: FaceContext, lesion: les.Lesion, nose: np.ndarray, shaded: np.ndarray,
                folds: np.ndarray) -> Features:
    c = lesion.contrast
    pol = lesion.candidate.polarity
    yx = (int(np.clip(round(lesion.y), 0, nose.shape[0] - 1)), int(np.clip(round(lesion.x), 0, nose.shape[1] - 1)))
    small_light = pol < 0 and lesion.diameter_mm <= WHITEHEAD_MAX_MM  # only these need halo and glint tests
    glint = _glint_measures(ctx.crop, lesion) if small_light else (1.0, 0.0)
    dist, align = outline_relation(outline_segments(ctx), lesion.x, lesion.y, lesion.angle)
    return Features(polarity=pol, diameter_mm=lesion.diameter_mm, dark=float(c[les.DARK]), mel=float(c[les.MEL]),
                    hem=float(c[les.HEM]), centre_bright=lesion.centre_bright, elongation=lesion.elongation,
                    on_nose=bool(nose[yx]), in_shaded_zone=bool(shaded[yx]), in_fold_zone=bool(folds[yx]),
                    halo_hem=_halo_hem(ctx, lesion) if small_light else 0.0,
                    sat_ratio=glint[0], centre_value=glint[1],
                    bilateral=lesion.bilateral, significance=lesion.candidate.significance,
                    solidity=lesion.solidity, hair_mm=float(les.hair_distance_mm(ctx)[yx]),
                    outline_mm=dist * ctx.mm_per_px, outline_align=align,
                    eye_mm=feature_distance_mm(ctx, EYE_REGIONS, lesion.x, lesion.y),
                    brow_mm=feature_distance_mm(ctx, BROW_REGIONS, lesion.x, lesion.y))


EYE_REGIONS = ("eye_left", "eye_right")
BROW_REGIONS = ("brow_left", "brow_right")


def feature_distance_mm(ctx: FaceContext, names: tuple[str, ...], x: float, y: float) -> float:
    """Distance (mm) from (x, y) crop px to the nearest of these regions' polygons (0 inside; inf if none)."""
    best = np.inf
    for name in names:
        if name in ctx.regions.names:
            poly = np.asarray(ctx.regions.polygon(name), np.float32).reshape(-1, 1, 2)
            best = min(best, max(-cv2.pointPolygonTest(poly, (float(x), float(y)), True), 0.0))
    return float(best * ctx.mm_per_px)


def fold_zones(ctx: FaceContext) -> np.ndarray:
    def compute(c: FaceContext) -> np.ndarray:
        grow = max(int(round(FOLD_ZONE_GROW_MM / c.mm_per_px)), 1)
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
        return cv2.dilate(les.region_union(c, FOLD_ZONES).astype(np.uint8), k) > 0

    return ctx.cached("acnespotmole:fold_zones", compute)


@dataclass
class Finding:
    family: str
    type: int
    lesion: les.Lesion
    features: Features


def findings(ctx: FaceContext, store: ModelStore) -> list[Finding]:
    """Every classified lesion of the face (crop px), strongest first."""
    where = les.analysable_skin(ctx)
    nose = cv2.dilate(ctx.regions.mask("nose"), np.ones((5, 5), np.uint8)) > 0
    shaded = les.region_union(ctx, SHADED_ZONES)
    out = []
    for lesion in les.find_lesions(ctx, store, detector(), where):
        f = features_of(ctx, lesion, nose, shaded, fold_zones(ctx))
        kind = classify(f)
        if kind is not None:
            out.append(Finding(kind[0], kind[1], lesion, f))
    # A reported light blob inside a reported darker/redder lesion is that lesion's head.
    kept = {id(x) for x in les.deduplicate([x.lesion for x in out])}
    return sorted((x for x in out if id(x.lesion) in kept), key=lambda x: -x.lesion.score)


def _item(ctx: FaceContext, finding: Finding, with_type: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"type": int(finding.type)} if with_type else {}
    item["score"] = les.r2(finding.lesion.score)
    item.update(les.box_to_original(ctx, finding.lesion.box))
    return item


@register("acnespotmole")
class AcneSpotMole:
    name: ClassVar[str] = "acnespotmole"
    models: ClassVar[tuple[str, ...]] = (les.lb.MODEL_NAME,)

    def __init__(self, store: ModelStore) -> None:
        self.store = store

    def analyze(self, ctx: FaceContext, extended: bool = False) -> dict[str, Any]:
        found = findings(ctx, self.store)
        acne = [f for f in found if f.family == ACNE]
        speckle = [f for f in found if f.family == SPECKLE]
        mole = [f for f in found if f.family == MOLE]
        field = {
            "acne_num": len(acne), "acne_list": [_item(ctx, f, True) for f in acne],
            "speckle_num": len(speckle), "speckle_list": [_item(ctx, f, True) for f in speckle],
            "mole_num": len(mole), "mole_list": [_item(ctx, f, False) for f in mole],
        }
        out: dict[str, Any] = {"acnespotmole": field}
        if extended:
            out["extended"] = {"acnespotmole": {
                "items": [{"family": f.family, "type": f.type, "diameter_mm": round(f.features.diameter_mm, 2),
                           "contrast_od": {"dark": round(f.features.dark, 3), "melanin": round(f.features.mel, 3),
                                           "hemoglobin": round(f.features.hem, 3)},
                           "redness": round(f.features.redness, 2), "score": les.r2(f.lesion.score)}
                          for f in found],
                "mm_per_crop_px": round(ctx.mm_per_px, 4),
            }}
        return out
