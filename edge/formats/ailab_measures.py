"""The vendor family's vocabulary, computed once from one face's measurements (`FaceMeasures`).

The three tier renderers (ailab_basic / ailab_advanced / ailab_pro) only select and shape what this
module derives, so a count or a severity is the same number in every tier. Nothing here analyses
pixels anew beyond share-of-area sums over the analyzers' own maps; every definition is one line and
listed in README ("Moving from the cloud API"). Left/right are the person's (shared contract).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from edge.face.regions import LEFT_BROW, RIGHT_BROW
from edge.shop.skin_type import skin_type

if TYPE_CHECKING:
    from edge.pipeline import FaceMeasures

# --- geometry (MediaPipe mesh indices) -------------------------------------------------------------
NOSE_BRIDGE, CHIN = 168, 152  # the face's midline runs through these
BROW_POINTS = LEFT_BROW + RIGHT_BROW  # the eyebrows' outlines: `face_rectangle` starts at their top

# --- lesions (acnespotmole's seed lists -> the vendor's lesion kinds) ------------------------------
# seed acne type -> vendor kind; the model's "pimple" covers papules and pustules alike (the labels do
# not separate them), so they are all reported as `acne` (papules) and `acne_pustule` stays empty.
ACNE_KIND_OF_TYPE = {0: "closed_comedones", 1: "acne_mark", 2: "acne", 3: "acne_nodule"}
LESION_KINDS = ("acne", "acne_pustule", "acne_nodule", "acne_mark", "closed_comedones", "brown_spot", "mole")
OUTLINE_POINTS = 12  # a lesion's polygon: the ellipse inscribed in its box (the model predicts boxes)

# --- wrinkles --------------------------------------------------------------------------------------
# vendor region -> our wrinkle zones (edge/analysis/wrinkle.py); mouth lines are the perioral zone
# split at the face midline. Cheeks are not searched for wrinkles: those regions always read zero.
WRINKLE_REGIONS = ("forehead", "left_eye", "right_eye", "left_crowsfeet", "right_crowsfeet", "glabella",
                   "left_mouth", "right_mouth", "left_nasolabial", "right_nasolabial", "left_cheek",
                   "right_cheek")
ZONE_OF_REGION = {"forehead": "forehead", "glabella": "glabella", "left_eye": "under_eye_left",
                  "right_eye": "under_eye_right", "left_crowsfeet": "crows_feet_left",
                  "right_crowsfeet": "crows_feet_right", "left_nasolabial": "nasolabial_left",
                  "right_nasolabial": "nasolabial_right", "left_mouth": "perioral", "right_mouth": "perioral"}
# The 0/1 wrinkle flags of every tier -> the regions whose lines raise them.
WRINKLE_FLAGS = {"forehead_wrinkle": ("forehead",), "crows_feet": ("left_crowsfeet", "right_crowsfeet"),
                 "eye_finelines": ("left_eye", "right_eye"), "glabella_wrinkle": ("glabella",),
                 "nasolabial_fold": ("left_nasolabial", "right_nasolabial")}
DEEP_WRINKLE_OD = 0.1  # a line at least ~20 % darker than the skin beside it (10^-0.1) counts as deep
SEVERE_WRINKLE_MM_OD = 4.0  # sum of length x depth (mm x OD) scoring 100: ~40 mm of deep lines in one region
WRINKLE_WIDTH_MM = 1.0  # the area a wrinkle covers = its length x this (for area ratios)
NORM_LENGTH_MM = 10.0  # `wrinkle_norm_length` is the total length in units of this (cm)
SEVERITY_BANDS = (1, 34, 67)  # wrinkle_score at or above which the level is 1, 2, 3 (thirds of 0-100)

# --- pores / blackheads (the vendor's published count bands, applied to our counts) ----------------
PORE_BANDS = {"forehead": (101, 301, 501), "left_cheek": (46, 137, 228), "right_cheek": (46, 137, 228),
              "chin": (64, 189, 314)}
BLACKHEAD_BANDS = (46, 91, 151)  # blackhead_count at or above which `blackhead` is 1, 2, 3
PORE_ZONE_OF_REGION = {"forehead": "forehead", "left_cheek": "cheek_left", "right_cheek": "cheek_right",
                       "chin": "chin"}

# --- oil, water, roughness, pigment ----------------------------------------------------------------
# The vendor's skin_type codes of edge/shop/skin_type.py's types (grades it cannot read: normal, as no
# zone is then graded dry or oily).
SKIN_TYPE_CODES = {"oily": 0, "dry": 1, "normal": 2, "combination": 3}
OILY_ZONES = {"t_zone": ("forehead", "glabella", "nose"), "left_cheek": ("cheek_left",),
              "right_cheek": ("cheek_right",), "chin_area": ("chin",)}
OILY_SHINE = 0.05  # skinquality's oily threshold: >= 5 % of a zone's skin is specular highlight
OILY_SEVERE_SHINE = 0.15  # three times that: the zone glistens (intensity 2)
ROUGH_FULL_PCT = 6.0  # texture contrast (%) read as rough_area 1.0: smooth's "rough" grade (> 3 %) doubled
BROWN_OD = 0.2  # melanin OD over the face's own skin from which a pixel is "brown" (a visible spot / patch)
BROWN_FULL_OD = 0.5  # mean excess of the brown pixels that reads melanin_concentration 100 (a dark mole); BROWN_OD reads 0
RED_OD = 0.1  # hemoglobin OD over the face's own skin from which a pixel is "red" (~ Delta a* +3: visible)
RED_FULL_OD = 0.35  # mean excess of the red pixels that reads sensitivity_intensity 100 (a papule's red); RED_OD reads 0
MIN_MARK_AREA_MM2 = 2.0  # brown / red patches smaller than this are lesions, not melanin / sensitivity marks
MARK_EPSILON_PX = 1.5  # outline simplification (crop px)

# --- dark circles / eye bags (eyesattr's measures) -------------------------------------------------
DARK_CIRCLE_MIN_OD = 0.06  # eyesattr's threshold for a dark circle (~6 % less light)
DARK_CIRCLE_LEVEL_OD = 0.06  # one component level per this much OD it contributes
DARK_CIRCLE_SEVERITY_OD = (0.09, 0.15)  # mean OD from which a circle is moderate (1), severe (2)
BAG_COLUMNS = 12  # eyesattr's under-eye profile columns
BAG_SEVERITY_COLUMNS = (7, 10)  # bag columns from which a bag is moderate (1), severe (2)
PIGMENT, SHADOW, VASCULAR = 0, 1, 2  # eyesattr's dark-circle types

# --- skin tone ---------------------------------------------------------------------------------------
ITA_BANDS = (56.0, 43.0, 36.0, 20.0, 10.0)  # the contract's skintone_ita bands, lightest first
COLOR_OF_ITA = (55.0, 41.0, 28.0, 10.0)  # ITA above which skin_color is 0 translucent, 1 fair, 2 natural, 3 wheat; else 4
HUE_YELLOW_DEG = 49.0  # hue angle above which skin reads yellowish (contract)
# skin_color when ITA is not measurable: the contract has no "absent" value for it (skintone_ita has 6),
# so the middle class (2 natural) with confidence 0 (docs/ailab/README.md, "Not measured").
UNMEASURED_SKIN_COLOR = 2

# --- skin age ----------------------------------------------------------------------------------------
AGE_BASE = 20.0  # the estimate of a face with no ageing sign found
AGE_PER_WRINKLE_SCORE = 0.3  # years per point of the mean wrinkle_score of the 10 searched regions
AGE_PER_SPOT = 0.5  # years per brown spot (solar lentigines come with age), at most AGE_SPOTS_MAX
AGE_SPOTS_MAX = 20
AGE_PER_BAG = 4.0  # years per eye with a bag
AGE_MAX = 80.0


def clamp(v: float, lo: float, hi: float) -> float:
    return float(min(max(v, lo), hi))


def band_level(value: float, bands: tuple[float, ...]) -> int:
    return int(sum(value >= b for b in bands))


def rect_of_box(b: dict[str, Any]) -> dict[str, int]:
    x0, y0 = int(math.floor(b["left"])), int(math.floor(b["top"]))
    return {"left": max(x0, 0), "top": max(y0, 0), "width": max(int(math.ceil(b["right"])) - x0, 1),
            "height": max(int(math.ceil(b["bottom"])) - y0, 1)}


def ellipse_of_box(b: dict[str, Any], n: int = OUTLINE_POINTS) -> list[dict[str, int]]:
    cx, cy = (b["left"] + b["right"]) / 2, (b["top"] + b["bottom"]) / 2
    rx, ry = (b["right"] - b["left"]) / 2, (b["bottom"] - b["top"]) / 2
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return [{"x": int(round(cx + rx * math.cos(a))), "y": int(round(cy + ry * math.sin(a)))} for a in t]


def points(poly: np.ndarray) -> list[dict[str, int]]:
    return [{"x": int(round(float(x))), "y": int(round(float(y)))} for x, y in np.asarray(poly).reshape(-1, 2)]


@dataclass
class Lesions:
    """One vendor lesion kind: boxes (original px, seed form), calibrated scores."""

    boxes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.boxes)

    def pro(self) -> dict[str, Any]:
        return {"rectangle": [rect_of_box(b) for b in self.boxes],
                "confidence": [round(float(b["score"]), 4) for b in self.boxes],
                "polygon": [ellipse_of_box(b) for b in self.boxes], "count": self.count}

    def advanced(self, with_confidence: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"rectangle": [rect_of_box(b) for b in self.boxes]}
        if with_confidence:
            out["confidence"] = [round(float(b["score"]), 4) for b in self.boxes]
        return out


@dataclass
class WrinkleRegion:
    lines: list[list[dict[str, float]]]  # polylines, original px
    length_mm: list[float]
    depth_od: list[float]
    area_mm2: float  # the region's skin area

    @property
    def score(self) -> int:
        load = sum(length * d for length, d in zip(self.length_mm, self.depth_od, strict=True))
        return int(round(clamp(100.0 * load / SEVERE_WRINKLE_MM_OD, 0, 100)))

    @property
    def level(self) -> int:
        return band_level(self.score, SEVERITY_BANDS) if self.lines else 0

    @property
    def deep_num(self) -> int:
        return sum(d >= DEEP_WRINKLE_OD for d in self.depth_od)

    def info(self) -> dict[str, Any]:
        n = len(self.lines)
        total = float(sum(self.length_mm))
        area = total * WRINKLE_WIDTH_MM / self.area_mm2 if self.area_mm2 > 0 else 0.0
        return {"wrinkle_score": self.score, "wrinkle_severity_level": self.level,
                "wrinkle_norm_length": round(total / NORM_LENGTH_MM, 4),
                "wrinkle_norm_depth": round(float(np.mean(self.depth_od)) / DEEP_WRINKLE_OD, 4) if n else 0,
                "wrinkle_pixel_density": round(n / self.area_mm2 * 100.0, 4) if self.area_mm2 > 0 else 0,
                "wrinkle_area_ratio": round(clamp(area, 0, 1), 4),
                "wrinkle_deep_ratio": round(self.deep_num / n, 4) if n else 0,
                "wrinkle_deep_num": self.deep_num, "wrinkle_shallow_num": n - self.deep_num}

    def wrinkle_list(self) -> list[dict[str, Any]]:
        return [{"wrinkle_coord": [{"x": int(round(p["x"])), "y": int(round(p["y"]))} for p in line],
                 "wrinkle_depth": round(d, 4), "wrinkle_length": round(length, 2)}
                for line, length, d in zip(self.lines, self.length_mm, self.depth_od, strict=True)]


@dataclass
class EyeSide:
    dark_kind: int | None  # eyesattr type, None: no dark circle
    mean_od: float
    melanin_share: float
    hemoglobin_share: float
    outline: list[dict[str, int]]
    bag: bool
    bag_columns: int
    bag_outline: list[dict[str, int]]

    def component_level(self, share: float) -> int:
        if self.dark_kind is None:
            return 0
        return int(clamp(round(self.mean_od * share / DARK_CIRCLE_LEVEL_OD), 0, 3))

    @property
    def rete(self) -> int:  # vascular share
        return self.component_level(self.hemoglobin_share)

    @property
    def pigment(self) -> int:
        return self.component_level(self.melanin_share)

    @property
    def structural(self) -> int:  # shadow: what pigment and blood do not explain
        return self.component_level(max(1.0 - self.melanin_share - self.hemoglobin_share, 0.0))


def lesions_of(face: dict[str, Any]) -> dict[str, Lesions]:
    """acnespotmole's seed lists (of a face dict) as the vendor's lesion kinds."""
    asm = face.get("acnespotmole", {})
    lesions = {k: Lesions() for k in LESION_KINDS}
    for item in asm.get("acne_list", []):
        lesions[ACNE_KIND_OF_TYPE.get(item.get("type", 2), "acne")].boxes.append(item)
    lesions["brown_spot"].boxes = list(asm.get("speckle_list", []))
    lesions["mole"].boxes = list(asm.get("mole_list", []))
    return lesions


class VendorView:
    """Everything the tiers render, derived once from one face's measurements."""

    def __init__(self, m: FaceMeasures) -> None:
        self.m = m
        f, ext = m.face, m.face.get("extended", {})
        self.ext = ext
        self.lesions = lesions_of(f)
        self.wrinkles = self._wrinkles()
        self.pores = self._pores()
        bp = f.get("blackheadpore", {})
        self.blackhead_count = int(bp.get("blackhead_num", 0))
        self.eyes = {s: self._eye(s) for s in ("left", "right")}

    # --- geometry ---------------------------------------------------------------------------------
    def face_rectangle(self) -> dict[str, int]:
        """The vendor's face box, eyebrows to chin (not the forehead; contract): the box of the mesh
        points no higher than the brows' top, height measured along the face's own vertical (nose
        bridge to chin) so that a tilted head is cut at its brows too. Clipped to the photo."""
        lm = self.m.landmarks
        top, chin = lm[NOSE_BRIDGE], lm[CHIN]
        down = (chin - top) / max(float(np.linalg.norm(chin - top)), 1e-9)
        depth = (lm - top) @ down
        kept = lm[depth >= depth[list(BROW_POINTS)].min()]
        w, h = self.m.image_size
        x0, y0 = max(float(kept[:, 0].min()), 0.0), max(float(kept[:, 1].min()), 0.0)
        x1, y1 = min(float(kept[:, 0].max()), float(w)), min(float(kept[:, 1].max()), float(h))
        return {"top": int(round(y0)), "left": int(round(x0)), "width": int(round(x1 - x0)),
                "height": int(round(y1 - y0))}

    def _region_area_mm2(self, zone: str) -> float:
        mask = self.m.region_masks.get(zone)
        return float(mask.sum()) * self.m.mm_per_px**2 if mask is not None else 0.0

    def _side_of(self, x: float, y: float) -> str:
        """Person's side of an original-px point: the side of the nose-chin midline it lies on."""
        top, bottom = self.m.landmarks[NOSE_BRIDGE], self.m.landmarks[CHIN]
        cross = (bottom[0] - top[0]) * (y - top[1]) - (bottom[1] - top[1]) * (x - top[0])
        return "left" if cross < 0 else "right"  # the person's left appears at larger x (unmirrored)

    # --- wrinkles -----------------------------------------------------------------------------------
    def _wrinkles(self) -> dict[str, WrinkleRegion]:
        w = self.m.face.get("wrinkle", {})
        wx = self.ext.get("wrinkle", {})
        lines, zones = w.get("wrinkle_data", []), wx.get("zone", [])
        lengths, depths = wx.get("length_mm", []), wx.get("depth_od", [])
        out = {}
        for region in WRINKLE_REGIONS:
            zone = ZONE_OF_REGION.get(region)
            picked = []
            for i, line in enumerate(lines):
                if zone is None or i >= len(zones) or zones[i] != zone:
                    continue
                if zone == "perioral":
                    mid = line[len(line) // 2]
                    if self._side_of(mid["x"], mid["y"]) != region.split("_")[0]:
                        continue
                picked.append(i)
            area = self._region_area_mm2(zone) / (2 if zone == "perioral" else 1) if zone else 0.0
            out[region] = WrinkleRegion([lines[i] for i in picked], [float(lengths[i]) for i in picked],
                                        [float(depths[i]) for i in picked], area)
        return out

    def wrinkle_present(self, *regions: str) -> bool:
        return any(self.wrinkles[r].lines for r in regions)

    def wrinkle_flags(self) -> dict[str, dict[str, Any]]:
        """The 0/1 wrinkle flags (WRINKLE_FLAGS) as {value, confidence} pairs."""
        return {key: present(self.wrinkle_present(*regions)) for key, regions in WRINKLE_FLAGS.items()}

    def worse_side_severity(self, region: str) -> int:
        """0 mild | 1 moderate | 2 severe for a flag of paired regions (`left_<region>`, `right_<region>`):
        the worse side's wrinkle level (1..3) minus one."""
        level = max(self.wrinkles[f"left_{region}"].level, self.wrinkles[f"right_{region}"].level)
        return max(level - 1, 0)

    def wrinkle_score(self) -> float:
        """The mean wrinkle_score over the regions that are searched (cheeks are not)."""
        searched = [r for r in WRINKLE_REGIONS if r in ZONE_OF_REGION]
        return float(np.mean([self.wrinkles[r].score for r in searched]))

    # --- pores ---------------------------------------------------------------------------------------
    def _pores(self) -> dict[str, int]:
        circles = self.m.face.get("blackheadpore", {}).get("circles", [{}])
        pores = circles[0].get("pore", []) if circles else []
        counts = {}
        for region, zone in PORE_ZONE_OF_REGION.items():
            poly = self.m.regions.get(zone)
            if poly is None:
                counts[region] = 0
                continue
            contour = np.asarray(poly, np.float32).reshape(-1, 1, 2)
            counts[region] = sum(cv2.pointPolygonTest(contour, (float(p["x"]), float(p["y"])), False) >= 0
                                 for p in pores)
        return counts

    def pore_level(self, region: str) -> int:
        return band_level(self.pores[region], PORE_BANDS[region])

    def blackhead_level(self) -> int:
        return band_level(self.blackhead_count, BLACKHEAD_BANDS)

    # --- skin type / oil / water / roughness ----------------------------------------------------------
    def dryoil(self) -> list[str]:
        return list(self.m.face.get("skinquality", {}).get("skin_dryoil_check", ["1"] * 5))

    def skin_type(self) -> tuple[int, list[float]]:
        """(0 oily | 1 dry | 2 normal | 3 combination, confidence per type) from the five dry/oil zones
        (forehead, nose, cheek L, cheek R, chin): the type by the one rule of edge/shop/skin_type.py (the
        shop's skin profile uses it too); confidence = the share of zones that vote for each type."""
        z = self.dryoil()
        t_oily = sum(v == "2" for v in (z[0], z[1])) / 2
        cheeks_not = sum(v != "2" for v in (z[2], z[3])) / 2
        conf = [sum(v == "2" for v in z) / 5, sum(v == "0" for v in z) / 5, sum(v == "1" for v in z) / 5,
                t_oily * cheeks_not]
        return SKIN_TYPE_CODES[skin_type(z) or "normal"], [round(c, 4) for c in conf]

    def _zones_mask(self, zones: tuple[str, ...]) -> np.ndarray:
        sel = np.zeros_like(self.m.skin)
        for zname in zones:
            if zname in self.m.region_masks:
                sel |= self.m.region_masks[zname]
        return sel

    def _share(self, mask: np.ndarray, zones: tuple[str, ...]) -> float:
        sel = self._zones_mask(zones) & self.m.skin
        return float((mask & sel).sum()) / float(sel.sum()) if sel.any() else 0.0

    def oily(self) -> dict[str, dict[str, Any]]:
        out = {}
        zones = {**OILY_ZONES, "full_face": tuple(z for zs in OILY_ZONES.values() for z in zs)}
        for name, zs in zones.items():
            area = self._share(self.m.shine, zs)
            out[name] = {"area": round(area, 4), "intensity": band_level(area, (OILY_SHINE, OILY_SEVERE_SHINE))}
        return out

    def oily_score(self) -> float:
        """Our oily_intensity_score (the vendor's is unpublished): 100 minus the full-face shine share
        in units of OILY_SEVERE_SHINE (a glistening face reads 0)."""
        return clamp(100.0 - 100.0 * self.oily()["full_face"]["area"] / OILY_SEVERE_SHINE, 0, 100)

    def _zone_texture(self, zone: str) -> float:
        return float(self.ext.get("skinquality", {}).get("zones", {}).get(zone, {}).get("texture_pct", 0.0))

    def water(self) -> dict[str, Any]:
        """Dryness, as the device sees it (no hydration sensor): a zone skinquality calls dry (matte and
        rough) counts with its non-shiny share, others 0."""
        z = dict(zip(("forehead", "nose", "cheek_left", "cheek_right", "chin"), self.dryoil(), strict=False))
        areas = {}
        for key, zone in (("water_forehead", "forehead"), ("water_leftcheek", "cheek_left"),
                          ("water_rightcheek", "cheek_right")):
            areas[key] = round(1.0 - self._share(self.m.shine, (zone,)), 4) if z.get(zone) == "0" else 0.0
        total = float(np.mean(list(areas.values())))
        return {"water_severity": int(round(100 * total)), "water_area": round(total, 4),
                **{k: {"area": v} for k, v in areas.items()}}

    def rough(self) -> dict[str, Any]:
        """Roughness from smooth's texture contrast per zone, ROUGH_FULL_PCT reading 1.0."""
        areas = {k: round(clamp(self._zone_texture(zone) / ROUGH_FULL_PCT, 0, 1), 4)
                 for k, zone in (("rough_forehead", "forehead"), ("rough_leftcheek", "cheek_left"),
                                 ("rough_rightcheek", "cheek_right"), ("rough_jaw", "chin"))}
        total = float(np.mean(list(areas.values())))
        return {"rough_severity": int(round(100 * total)), "rough_area": round(total, 4),
                **{k: {"area": v} for k, v in areas.items()}}

    # --- pigment and redness ---------------------------------------------------------------------------
    def _excess_stats(self, excess: np.ndarray, thr: float, full: float, zones: tuple[str, ...]) -> tuple[float, float]:
        """(share of the zones' skin at or over `thr`, how far those pixels' mean excess goes from `thr`
        to `full`, 0-100)."""
        hot = excess >= thr
        area = self._share(hot, zones)
        sel = hot & self.m.skin & self._zones_mask(zones)
        if not sel.any():
            return area, 0.0
        return area, clamp(100.0 * (float(np.mean(excess[sel])) - thr) / (full - thr), 0, 100)

    SKIN_ZONES = ("forehead", "glabella", "cheek_left", "cheek_right", "nose", "chin", "perioral",
                  "nasolabial_left", "nasolabial_right", "under_eye_left", "under_eye_right")

    def melanin(self) -> dict[str, Any]:
        area, conc = self._excess_stats(self.m.melanin_excess, BROWN_OD, BROWN_FULL_OD, self.SKIN_ZONES)
        hot = self.m.melanin_excess >= BROWN_OD
        return {"brown_area": round(area, 4), "melanin_concentration": int(round(conc)),
                "brown_forehead": round(self._share(hot, ("forehead",)), 4),
                "brown_leftcheek": round(self._share(hot, ("cheek_left",)), 4),
                "brown_rightcheek": round(self._share(hot, ("cheek_right",)), 4)}

    def sensitivity(self) -> dict[str, Any]:
        """Red area over the cheeks and nose (where sensitive skin flushes; lips are excluded regions)."""
        area, intensity = self._excess_stats(self.m.hemoglobin_excess, RED_OD, RED_FULL_OD,
                                             ("cheek_left", "cheek_right", "nose"))
        return {"sensitivity_area": round(area, 4), "sensitivity_intensity": int(round(intensity))}

    def sensitive_level(self) -> int:
        return int(self.m.face.get("skinquality", {}).get("skin_sensitive_check", ["1"])[0])

    def mark_polygons(self, excess: np.ndarray, thr: float) -> list[list[dict[str, int]]]:
        """Outlines (original px) of the patches over `thr` on skin, at least MIN_MARK_AREA_MM2 large."""
        mask = ((excess >= thr) & self.m.skin).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_px = MIN_MARK_AREA_MM2 / max(self.m.mm_per_px**2, 1e-9)
        out = []
        for c in contours:
            if cv2.contourArea(c) < min_px:
                continue
            c = cv2.approxPolyDP(c, MARK_EPSILON_PX, True)
            if len(c) >= 3:
                out.append(points(self.m.to_original(c.reshape(-1, 2))))
        return out

    # --- tone ------------------------------------------------------------------------------------------
    def ita(self) -> float | None:
        c = self.ext.get("color", {})
        return float(c["ita_deg"]) if c.get("reliable") and "ita_deg" in c else None

    def skintone_ita(self) -> dict[str, Any]:
        ita = self.ita()
        if ita is None:
            return {"ITA": 0.0, "skintone": 6}  # abnormal lighting: not measurable
        return {"ITA": round(clamp(ita, -90, 90), 4), "skintone": band_level(-ita, tuple(-b for b in ITA_BANDS))}

    def skin_color(self) -> dict[str, Any]:
        ita = self.ita()
        if ita is None:
            return {"value": UNMEASURED_SKIN_COLOR, "confidence": 0.0}
        value = band_level(-ita, tuple(-b for b in COLOR_OF_ITA))
        # confidence: how far inside its ITA class the face is (1 at the class centre or beyond the ends)
        edges = (90.0, *COLOR_OF_ITA, -90.0)
        hi, lo = edges[value], edges[value + 1]
        half = (hi - lo) / 2
        conf = 1.0 if value in (0, 4) else clamp(1.0 - abs(ita - (hi + lo) / 2) / half, 0, 1)
        return {"value": value, "confidence": round(conf, 4)}

    def hue_angle(self) -> float | None:
        c = self.ext.get("color", {})
        lab = c.get("lab_median")
        if not c.get("reliable") or not lab:
            return None
        return clamp(math.degrees(math.atan2(lab[2], lab[1])), 0, 90)

    def skin_hue(self) -> tuple[float, int]:
        ha = self.hue_angle()
        if ha is None:
            return 0.0, 3
        return round(ha, 4), 0 if ha > HUE_YELLOW_DEG else 2

    # --- eyes --------------------------------------------------------------------------------------------
    def _eye(self, side: str) -> EyeSide:
        e, ex = self.m.face.get("eyesattr", {}), self.ext.get("eyesattr", {})
        dc = ex.get(f"dark_circle_{side}", {})
        kinds = e.get(f"dark_circle_{side}_type", [])
        bag = ex.get(f"eye_bags_{side}", {})
        return EyeSide(dark_kind=kinds[0] if kinds else None, mean_od=float(dc.get("mean_od", 0.0)),
                       melanin_share=float(dc.get("melanin_share", 0.0)),
                       hemoglobin_share=float(dc.get("hemoglobin_share", 0.0)),
                       outline=[{"x": int(round(p["x"])), "y": int(round(p["y"]))} for p in e.get(f"dark_circle_{side}", [])],
                       bag=bool(e.get(f"eye_bags_{side}_type")), bag_columns=int(bag.get("bag_columns", 0)),
                       bag_outline=[{"x": int(round(p["x"])), "y": int(round(p["y"]))} for p in e.get(f"eye_bags_{side}", [])])

    def dark_circle_type(self) -> int:
        """0 none | 1 pigmented | 2 vascular | 3 shadow: the darker side's type."""
        sides = [s for s in self.eyes.values() if s.dark_kind is not None]
        if not sides:
            return 0
        worst = max(sides, key=lambda s: s.mean_od)
        return {PIGMENT: 1, VASCULAR: 2, SHADOW: 3}[worst.dark_kind]

    def dark_circle_severity(self) -> int:
        od = max((s.mean_od for s in self.eyes.values() if s.dark_kind is not None), default=0.0)
        return band_level(od, DARK_CIRCLE_SEVERITY_OD)

    def eye_pouch(self) -> bool:
        return any(s.bag for s in self.eyes.values())

    def eye_pouch_severity(self) -> int:
        cols = max((s.bag_columns for s in self.eyes.values() if s.bag), default=0)
        return band_level(cols, BAG_SEVERITY_COLUMNS)

    def eye_rect(self, side: str) -> dict[str, int]:
        """The under-eye area judged for dark circles and bags (original px)."""
        poly = self.m.regions.get(f"under_eye_{side}")
        if poly is None or len(poly) == 0:
            return {"left": 0, "top": 0, "width": 0, "height": 0}
        x, y, w, h = cv2.boundingRect(np.round(poly).astype(np.int32).reshape(-1, 1, 2))
        return {"left": max(int(x), 0), "top": max(int(y), 0), "width": int(w), "height": int(h)}

    # --- age ---------------------------------------------------------------------------------------------
    def skin_age(self) -> int:
        """AGE_BASE + wrinkles + brown spots + eye bags (coefficients above); an estimate from ageing
        signs, not a face-age model."""
        age = (AGE_BASE + AGE_PER_WRINKLE_SCORE * self.wrinkle_score()
               + AGE_PER_SPOT * min(self.lesions["brown_spot"].count, AGE_SPOTS_MAX)
               + AGE_PER_BAG * sum(s.bag for s in self.eyes.values()))
        return int(round(clamp(age, AGE_BASE, AGE_MAX)))

    # --- head pose -----------------------------------------------------------------------------------------
    def warning(self, limit_deg: float = 45.0) -> list[str]:
        p = self.m.pose
        bad = max(abs(p.yaw_deg), abs(p.pitch_deg), abs(p.roll_deg)) > limit_deg
        return ["improper_headpose"] if bad else []


def pair(value: int, confidence: float) -> dict[str, Any]:
    return {"value": int(value), "confidence": round(clamp(float(confidence), 0, 1), 4)}


def present(flag: bool, scores: list[float] | None = None) -> dict[str, Any]:
    """A 0/1 pair: confidence is the strongest finding's calibrated score when present; for absent, and
    for findings without a probability (rule-based measures), 1.0 — the measure is deterministic."""
    if flag and scores:
        return pair(1, max(scores))
    return pair(1 if flag else 0, 1.0)
