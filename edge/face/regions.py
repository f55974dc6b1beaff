"""Named face regions (masks and polygons) built from the 468-point mesh, in face-aligned crop px.

Left/right are the person's: in the upright, unmirrored crop the person's right side is at smaller x.
Regions are polygons over mesh landmarks where the mesh has a clean contour (eyes, brows, lips, face
oval, lower eye rings) and simple constructions on landmarks elsewhere (crow's feet, nose, chin,
nasolabial bands), each clipped to the face oval. `skin` is the face minus the exclusion masks
(eyes, brows, lips, nostrils), grown by a margin so that their natural edges stay out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

# --- MediaPipe face-mesh topology ---------------------------------------------------------------
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
LIPS_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
RIGHT_EYE_LOWER1 = (130, 25, 110, 24, 23, 22, 26, 112, 243)
RIGHT_EYE_LOWER3 = (143, 111, 117, 118, 119, 120, 121, 128, 245)
LEFT_EYE_LOWER1 = (359, 255, 339, 254, 253, 252, 256, 341, 463)
LEFT_EYE_LOWER3 = (372, 340, 346, 347, 348, 349, 350, 357, 465)
RIGHT_CHEEK = (116, 117, 118, 119, 100, 142, 203, 206, 216, 207, 187, 147, 123)
LEFT_CHEEK = (345, 346, 347, 348, 329, 371, 423, 426, 436, 427, 411, 376, 352)
FOREHEAD_TOP = (54, 103, 67, 109, 10, 338, 297, 332, 284)
RIGHT_BROW_UPPER = (70, 63, 105, 66, 107)
LEFT_BROW_UPPER = (336, 296, 334, 293, 300)
GLABELLA = (107, 9, 336, 285, 417, 168, 193, 55)
NOSE_TOP, NOSE_BOTTOM = 168, 2
RIGHT_EYE_INNER, LEFT_EYE_INNER = 133, 362
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
RIGHT_ALA, LEFT_ALA = 129, 358
RIGHT_NOSE_CORNER, LEFT_NOSE_CORNER = 98, 327
RIGHT_MOUTH_CORNER, LEFT_MOUTH_CORNER = 61, 291
LOWER_LIP_BOTTOM = 17
CHIN_BOTTOM = (148, 152, 377)

# --- construction constants (fractions of face width W or eye width E) ---------------------------
FOREHEAD_HAIRLINE_MARGIN = 0.25  # the mesh top sits near the hairline; keep a quarter of the way down
BROW_MARGIN = 0.03  # of W: gap between brow and forehead/glabella regions
CROWS_FEET_NEAR, CROWS_FEET_FAR = 0.15, 1.0  # of E, lateral distance from the outer eye corner
CROWS_FEET_UP, CROWS_FEET_DOWN = 0.55, 0.75  # of E, vertical extent around the outer corner
NOSE_BRIDGE_HALF = 0.3  # nose bridge half-width as a fraction of the way to the inner eye corners
CHIN_TOP_GAP = 0.04  # of W below the lower lip
CHIN_BOTTOM_LIFT = 0.06  # of W above the chin contour (stay off the jaw edge)
PERIORAL_GROW = 1.55  # perioral ring = lips scaled about their centre by this factor, minus the lips
NASOLABIAL_WIDTH = 0.07  # of W, width of the band along the ala -> mouth-corner fold
EXCLUSION_MARGIN = 0.015  # of W, exclusion masks grown by this so natural edges stay out
FACE_EDGE_MARGIN = 0.02  # of W, the skin mask stays this far inside the face oval
MIN_VISIBLE_SHARE = 0.6  # a region cut by the image border below this share is not judged at all

SKIN_REGIONS = ("forehead", "glabella", "crows_feet_left", "crows_feet_right", "under_eye_left",
                "under_eye_right", "cheek_left", "cheek_right", "nose", "chin", "perioral",
                "nasolabial_left", "nasolabial_right")
EXCLUSIONS = ("eye_left", "eye_right", "brow_left", "brow_right", "lips", "nostrils")


@dataclass
class FaceRegions:
    size: int
    polygons: dict[str, np.ndarray] = field(default_factory=dict)
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    ipd_px: float = 0.0
    face_width_px: float = 0.0
    # Share of each skin region's pixels that lie inside the photo (1.0 unless the border cuts the face).
    visible_share: dict[str, float] = field(default_factory=dict)

    def visible(self, name: str) -> bool:
        """True when enough of the region is in the photo to be judged (see MIN_VISIBLE_SHARE)."""
        return self.visible_share.get(name, 1.0) >= MIN_VISIBLE_SHARE

    @property
    def names(self) -> list[str]:
        return list(self.masks)

    def mask(self, name: str) -> np.ndarray:
        return self.masks[name]

    def polygon(self, name: str) -> np.ndarray:
        return self.polygons[name]


def _poly_mask(size: int, poly: np.ndarray) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 255, lineType=cv2.LINE_8)
    return mask


def _band(a: np.ndarray, b: np.ndarray, width: float) -> np.ndarray:
    d = b - a
    n = np.array([-d[1], d[0]]) / max(np.linalg.norm(d), 1e-6) * width / 2
    return np.array([a + n, b + n, b - n, a - n])


def build_regions(landmarks: np.ndarray, size: int, inside: np.ndarray | None = None) -> FaceRegions:
    """Regions from (468, 2+) landmarks already in upright crop px. `inside` (uint8 0/255, crop px)
    marks the crop pixels that come from the photo; skin regions never reach outside it (a face cut by
    the image border must not be analysed on the padding)."""
    p = landmarks[:, :2].astype(np.float64)

    def pts(idx: tuple[int, ...]) -> np.ndarray:
        return p[list(idx)]

    oval = pts(FACE_OVAL)
    face_w = float(np.linalg.norm(p[454] - p[234]))
    right_eye_c, left_eye_c = pts(RIGHT_EYE).mean(0), pts(LEFT_EYE).mean(0)
    regions = FaceRegions(size=size, ipd_px=float(np.linalg.norm(left_eye_c - right_eye_c)), face_width_px=face_w)
    polys = regions.polygons
    polys["face"] = oval

    # Exclusions.
    polys["eye_right"], polys["eye_left"] = pts(RIGHT_EYE), pts(LEFT_EYE)
    polys["brow_right"], polys["brow_left"] = pts(RIGHT_BROW), pts(LEFT_BROW)
    polys["lips"] = pts(LIPS_OUTER)
    nose_tip_w = float(np.linalg.norm(p[LEFT_NOSE_CORNER] - p[RIGHT_NOSE_CORNER]))
    polys["nostrils"] = np.array([
        p[RIGHT_ALA], p[RIGHT_NOSE_CORNER], p[NOSE_BOTTOM] + [0, 0.05 * nose_tip_w],
        p[LEFT_NOSE_CORNER], p[LEFT_ALA], (p[LEFT_ALA] + p[RIGHT_ALA]) / 2 + [0, 0.05 * nose_tip_w],
    ])

    # Forehead: from a little below the mesh top (hairline) down to just above the brows.
    brow_lift = np.array([0.0, -BROW_MARGIN * face_w])
    top = pts(FOREHEAD_TOP)
    brow_top_y = min(pts(LEFT_BROW_UPPER)[:, 1].min(), pts(RIGHT_BROW_UPPER)[:, 1].min())
    top[:, 1] += (brow_top_y - top[:, 1]) * FOREHEAD_HAIRLINE_MARGIN
    polys["forehead"] = np.vstack([top, pts(LEFT_BROW_UPPER)[::-1] + brow_lift, p[[9]],
                                   pts(RIGHT_BROW_UPPER)[::-1] + brow_lift])
    polys["glabella"] = pts(GLABELLA)

    # Crow's feet: lateral to each outer eye corner.
    for side, corner, outward in (("right", RIGHT_EYE_OUTER, -1.0), ("left", LEFT_EYE_OUTER, 1.0)):
        eye = pts(RIGHT_EYE if side == "right" else LEFT_EYE)
        ew = float(eye[:, 0].max() - eye[:, 0].min())
        c = p[corner]
        near, far = c[0] + outward * CROWS_FEET_NEAR * ew, c[0] + outward * CROWS_FEET_FAR * ew
        polys[f"crows_feet_{side}"] = np.array([
            [near, c[1] - CROWS_FEET_UP * ew], [far, c[1] - CROWS_FEET_UP * ew],
            [far, c[1] + CROWS_FEET_DOWN * ew], [near, c[1] + CROWS_FEET_DOWN * ew],
        ])

    polys["under_eye_right"] = np.vstack([pts(RIGHT_EYE_LOWER1), pts(RIGHT_EYE_LOWER3)[::-1]])
    polys["under_eye_left"] = np.vstack([pts(LEFT_EYE_LOWER1), pts(LEFT_EYE_LOWER3)[::-1]])
    polys["cheek_right"], polys["cheek_left"] = pts(RIGHT_CHEEK), pts(LEFT_CHEEK)

    bridge_r = p[NOSE_TOP] + NOSE_BRIDGE_HALF * (p[RIGHT_EYE_INNER] - p[NOSE_TOP])
    bridge_l = p[NOSE_TOP] + NOSE_BRIDGE_HALF * (p[LEFT_EYE_INNER] - p[NOSE_TOP])
    polys["nose"] = np.array([bridge_r, bridge_l, p[LEFT_ALA], p[LEFT_NOSE_CORNER], p[NOSE_BOTTOM],
                              p[RIGHT_NOSE_CORNER], p[RIGHT_ALA]])

    chin_top = p[LOWER_LIP_BOTTOM][1] + CHIN_TOP_GAP * face_w
    chin_bottom = pts(CHIN_BOTTOM) - [0, CHIN_BOTTOM_LIFT * face_w]
    polys["chin"] = np.array([[p[RIGHT_MOUTH_CORNER][0], chin_top], [p[LEFT_MOUTH_CORNER][0], chin_top],
                              chin_bottom[2], chin_bottom[1], chin_bottom[0]])

    lips = polys["lips"]
    lips_c = lips.mean(0)
    polys["perioral"] = (lips - lips_c) * PERIORAL_GROW + lips_c

    for side, ala, mouth, out in (("right", RIGHT_ALA, RIGHT_MOUTH_CORNER, -1.0), ("left", LEFT_ALA, LEFT_MOUTH_CORNER, 1.0)):
        a = p[ala] + [out * 0.03 * face_w, -0.01 * face_w]
        b = p[mouth] + [out * 0.05 * face_w, 0.05 * face_w]
        polys[f"nasolabial_{side}"] = _band(a, b, NASOLABIAL_WIDTH * face_w)

    # Masks.
    masks = regions.masks
    face = _poly_mask(size, oval)
    masks["face"] = face
    grow = max(int(round(EXCLUSION_MARGIN * face_w)), 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    excluded = np.zeros_like(face)
    for name in EXCLUSIONS:
        masks[name] = _poly_mask(size, polys[name])
        excluded |= cv2.dilate(masks[name], kernel)
    edge = max(int(round(FACE_EDGE_MARGIN * face_w)), 1)
    inner_face = cv2.erode(face, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * edge + 1, 2 * edge + 1)))
    skin_uncut = inner_face & ~excluded
    skin = skin_uncut & inside if inside is not None else skin_uncut
    masks["skin"] = skin
    for name in SKIN_REGIONS:
        uncut = _poly_mask(size, polys[name]) & skin_uncut
        if name == "perioral":
            uncut &= ~masks["nose"]  # the ring reaches up to the nostrils: keep it off the nose
        masks[name] = uncut & inside if inside is not None else uncut
        total = int(np.count_nonzero(uncut))
        regions.visible_share[name] = float(np.count_nonzero(masks[name])) / total if total else 0.0
    masks["exclusion"] = excluded
    return regions
