"""The vendor's `face_maps`, drawn from one face's measurements at the original photo's size.

Encodings as the contract: base64 without a `data:` prefix; JPEG for red/brown (the photo with the
face's redness / melanin picture laid over it), transparent PNG for the texture and outline maps, PNG
for water/rough, and a JPEG cropped to the face for `texture_enhanced_bw` (its crop in
`enhanced_bw_info`). Colours of the outline map come from `roi_outline_color` (vendor keys).
"""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cv2
import numpy as np

from edge.formats.ailab_measures import DEEP_WRINKLE_OD, VendorView

FRONT_MAPS = ("red_area", "brown_area", "texture_enhanced_pores", "texture_enhanced_blackheads",
              "texture_enhanced_oily_area", "texture_enhanced_lines", "water_area", "rough_area",
              "roi_outline_map", "texture_enhanced_bw")
SIDE_MAPS = ("left_roi_outline_map", "right_roi_outline_map")
MAP_TOKENS = FRONT_MAPS + SIDE_MAPS
JPEG_QUALITY = 85
# Default outline colours (hex RGB), the vendor's `roi_outline_color` keys.
DEFAULT_COLORS = {"pores_color": "4FC3F7", "blackhead_color": "212121", "wrinkle_color": "FF7043",
                  "fine_line_color": "FFCA28", "closed_comedones_color": "FFFFFF", "acne_pustule_color": "FFEB3B",
                  "acne_nodule_color": "B71C1C", "acne_color": "E53935", "brown_spot_color": "8D6E63"}
REGION_OUTLINE_BGR = (180, 180, 180)
ZONE_FILL_BGR = {"water_area": (230, 160, 40), "rough_area": (60, 120, 200)}
ZONE_MAX_ALPHA = 200  # a zone with area 1.0 is painted at this opacity (of 255)
CBE_CLIP_LIMIT = 3.0  # CLAHE clip for the enhanced black-and-white face picture


MAP_THREADS = 2  # maps of one request drawn in parallel (the Pi 5 and this build machine: 4 and 2 cores)
_MAP_EXECUTOR = ThreadPoolExecutor(MAP_THREADS, thread_name_prefix="ailab-maps")


def bgr(hex_rgb: str) -> tuple[int, int, int]:
    r, g, b = (int(hex_rgb[i:i + 2], 16) for i in (0, 2, 4))
    return b, g, r


def b64_png(img: np.ndarray) -> str:
    # No row filter: the maps are sparse drawings on transparent black, where filtering buys nothing and
    # cost 4x the time (1024 px RGBA: 28 ms at level 3 adaptive, 7 ms unfiltered at level 1, smaller too).
    ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE])
    assert ok
    return base64.b64encode(buf.tobytes()).decode("ascii")


def b64_jpeg(img: np.ndarray) -> str:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    assert ok
    return base64.b64encode(buf.tobytes()).decode("ascii")


class MapRenderer:
    def __init__(self, v: VendorView, colors: dict[str, str] | None = None) -> None:
        self.v, self.m = v, v.m
        self.colors = {k: bgr(c) for k, c in {**DEFAULT_COLORS, **(colors or {})}.items()}
        self.size = self.m.image_size
        self._face_mask: np.ndarray | None = None

    # --- helpers -----------------------------------------------------------------------------------
    def photo(self) -> np.ndarray:
        w, h = self.size
        img = self.m.photo
        return img if img.shape[1] == w and img.shape[0] == h else cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)

    def warp(self, crop_img: np.ndarray, nearest: bool = False) -> np.ndarray:
        w, h = self.size
        flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
        return cv2.warpAffine(crop_img, self.m.crop_to_original, (w, h), flags=flags, borderValue=0)

    def face_mask(self) -> np.ndarray:
        if self._face_mask is None:
            self._face_mask = self.warp(self.m.region_masks["face"].astype(np.uint8) * 255, nearest=True) > 0
        return self._face_mask

    def canvas(self) -> np.ndarray:
        w, h = self.size
        return np.zeros((h, w, 4), np.uint8)

    @staticmethod
    def pts(poly: Any) -> np.ndarray:
        """cv2 int32 points from [{x, y}, ...] or an (N, 2) array."""
        if isinstance(poly, list) and poly and isinstance(poly[0], dict):
            poly = [[p["x"], p["y"]] for p in poly]
        return np.round(np.asarray(poly, np.float64)).astype(np.int32).reshape(-1, 1, 2)

    def line_width(self) -> int:
        return max(1, int(round(self.m.face["location"]["width"] / 300)))

    # --- maps --------------------------------------------------------------------------------------
    def picture_over_photo(self, key: str) -> str:
        out = self.photo().copy()
        pic = self.warp(self.m.pictures[key])
        mask = self.face_mask()
        out[mask] = pic[mask]
        return b64_jpeg(out)

    def dots(self, items: list[dict[str, Any]], color: tuple[int, int, int]) -> str:
        c = self.canvas()
        for p in items:
            cv2.circle(c, (int(round(p["x"])), int(round(p["y"]))), max(1, int(round(p.get("r", 1.5)))),
                       (*color, 255), self.line_width(), cv2.LINE_AA)
        return b64_png(c)

    def draw_wrinkles(self, c: np.ndarray) -> None:
        """Every wrinkle line onto the canvas: deep ones (DEEP_WRINKLE_OD) in wrinkle_color, the others in
        fine_line_color."""
        for region in self.v.wrinkles.values():
            for line, d in zip(region.lines, region.depth_od, strict=True):
                color = self.colors["wrinkle_color"] if d >= DEEP_WRINKLE_OD else self.colors["fine_line_color"]
                cv2.polylines(c, [self.pts(line)], False, (*color, 255), self.line_width(), cv2.LINE_AA)

    def lines(self) -> str:
        c = self.canvas()
        self.draw_wrinkles(c)
        return b64_png(c)

    def oily(self) -> str:
        c = self.canvas()
        shine = self.warp((self.m.shine & self.m.skin).astype(np.uint8) * 255, nearest=True) > 0
        c[shine] = (80, 220, 255, 200)
        return b64_png(c)

    def zones(self, key: str) -> str:
        c = self.canvas()
        data = self.v.water() if key == "water_area" else self.v.rough()
        prefix = "water_" if key == "water_area" else "rough_"
        zone_of = {"forehead": "forehead", "leftcheek": "cheek_left", "rightcheek": "cheek_right", "jaw": "chin"}
        for suffix, zone in zone_of.items():
            area = data.get(prefix + suffix, {}).get("area")
            poly = self.m.regions.get(zone)
            if area is None or poly is None or area <= 0:
                continue
            layer = self.canvas()
            cv2.fillPoly(layer, [self.pts(poly)], (*ZONE_FILL_BGR[key], int(ZONE_MAX_ALPHA * area)))
            c = np.maximum(c, layer)
        return b64_png(c)

    def outline(self) -> str:
        c = self.canvas()
        lw = self.line_width()
        for name in ("forehead", "cheek_left", "cheek_right", "nose", "chin"):
            if name in self.m.regions:
                cv2.polylines(c, [self.pts(self.m.regions[name])], True, (*REGION_OUTLINE_BGR, 255), lw, cv2.LINE_AA)
        kinds = {"acne": "acne_color", "acne_pustule": "acne_pustule_color", "acne_nodule": "acne_nodule_color",
                 "closed_comedones": "closed_comedones_color", "brown_spot": "brown_spot_color"}
        for kind, color_key in kinds.items():
            for b in self.v.lesions[kind].boxes:
                cv2.rectangle(c, (int(b["left"]), int(b["top"])), (int(round(b["right"])), int(round(b["bottom"]))),
                              (*self.colors[color_key], 255), lw)
        circles = self.m.face.get("blackheadpore", {}).get("circles", [{}])[0]
        for key, color_key in (("pore", "pores_color"), ("blackhead", "blackhead_color")):
            for p in circles.get(key, []):
                cv2.circle(c, (int(round(p["x"])), int(round(p["y"]))), max(1, int(round(p["r"]))),
                           (*self.colors[color_key], 255), lw, cv2.LINE_AA)
        self.draw_wrinkles(c)
        return b64_png(c)

    def bw_rect(self) -> dict[str, int]:
        w, h = self.size
        oval = self.m.regions["face"]
        x, y, bw, bh = cv2.boundingRect(np.round(oval).astype(np.int32).reshape(-1, 1, 2))
        x0, y0 = max(int(x), 0), max(int(y), 0)
        return {"left": x0, "top": y0, "width": max(min(int(x + bw), w) - x0, 1), "height": max(min(int(y + bh), h) - y0, 1)}

    def bw(self) -> str:
        r = self.bw_rect()
        gray = cv2.cvtColor(self.photo(), cv2.COLOR_BGR2GRAY)[r["top"]:r["top"] + r["height"], r["left"]:r["left"] + r["width"]]
        return b64_jpeg(cv2.createCLAHE(clipLimit=CBE_CLIP_LIMIT, tileGridSize=(8, 8)).apply(gray))

    def render_all(self, tokens: list[str]) -> dict[str, str]:
        """Several maps at once, MAP_THREADS at a time: drawing and encoding release the GIL, so a
        request's maps take about half the time on the Pi's idle cores."""
        self.face_mask()  # computed once, before the threads share it
        return dict(zip(tokens, _MAP_EXECUTOR.map(self.render, tokens), strict=True))

    def render(self, token: str) -> str:
        if token in ("red_area", "brown_area"):
            return self.picture_over_photo("red_pic" if token == "red_area" else "brown_pic")
        circles = self.m.face.get("blackheadpore", {}).get("circles", [{}])[0]
        if token == "texture_enhanced_pores":
            return self.dots(circles.get("pore", []), self.colors["pores_color"])
        if token == "texture_enhanced_blackheads":
            return self.dots(circles.get("blackhead", []), self.colors["blackhead_color"])
        if token == "texture_enhanced_lines":
            return self.lines()
        if token == "texture_enhanced_oily_area":
            return self.oily()
        if token in ("water_area", "rough_area"):
            return self.zones(token)
        if token == "roi_outline_map":
            return self.outline()
        if token == "texture_enhanced_bw":
            return self.bw()
        raise KeyError(token)


def side_outline_map(image_size: tuple[int, int], oval: np.ndarray | None) -> str:
    """A side photo's face outline (transparent PNG at its size); empty when no face was found."""
    w, h = image_size
    c = np.zeros((h, w, 4), np.uint8)
    if oval is not None:
        pts = np.round(oval).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(c, [pts], True, (*REGION_OUTLINE_BGR, 255), max(1, w // 400), cv2.LINE_AA)
    return b64_png(c)
