"""Draw what was found so a person can check it: the analysis findings (`draw_findings`: lesion boxes,
wrinkle lines, eye polygons, pore and blackhead circles, with a legend; colours as on the kiosk page)
and what the face stage found (`draw_faces`: boxes, keypoints, mesh, region outlines)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import cv2
import numpy as np

from edge.face.context import FaceContext
from edge.face.regions import EXCLUSIONS, SKIN_REGIONS

_PALETTE = [(66, 135, 245), (245, 166, 35), (80, 200, 120), (200, 80, 200), (0, 200, 200), (240, 240, 60),
            (255, 120, 120), (120, 120, 255), (150, 255, 150), (60, 160, 255), (255, 80, 160), (180, 180, 40),
            (40, 180, 180)]


def draw_faces(image: np.ndarray, contexts: list[FaceContext]) -> np.ndarray:
    """Overlay on a copy of the analysis-scale image: detection box, keypoints, mesh, region outlines."""
    out = image.copy()
    thick = max(1, round(max(out.shape[:2]) / 800))
    for ctx in contexts:
        x0, y0, x1, y1 = (int(round(v)) for v in ctx.detection.box)
        cv2.rectangle(out, (x0, y0), (x1, y1), (0, 255, 0), thick)
        for x, y in ctx.detection.keypoints:
            cv2.circle(out, (int(x), int(y)), 2 * thick + 1, (0, 0, 255), -1)
        for x, y in ctx.landmarks[:, :2]:
            cv2.circle(out, (int(x), int(y)), max(1, thick // 2), (255, 255, 255), -1)
        for i, name in enumerate(SKIN_REGIONS + EXCLUSIONS):
            poly = ctx.crop_to_analysis(ctx.regions.polygon(name))
            color = _PALETTE[i % len(_PALETTE)] if name in SKIN_REGIONS else (40, 40, 40)
            cv2.polylines(out, [np.round(poly).astype(np.int32)], True, color, thick)
        cv2.putText(out, f"{ctx.degree} deg", (x0, max(y0 - 6, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * thick,
                    (0, 255, 0), thick)
    return out


def draw_crop_regions(ctx: FaceContext) -> np.ndarray:
    """The aligned crop with each skin region tinted: for checking region placement."""
    out = ctx.crop.copy()
    for i, name in enumerate(SKIN_REGIONS):
        m = ctx.regions.mask(name) > 0
        out[m] = (0.6 * out[m] + 0.4 * np.array(_PALETTE[i % len(_PALETTE)])).astype(np.uint8)
    return out


def _bgr(hex_colour: str) -> tuple[int, int, int]:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return b, g, r


# layer -> (legend label, colour): the kiosk page's LAYERS (edge/ui/static/app.js)
FINDING_LAYERS = {
    "location": ("Face box", _bgr("#4cd964")),
    "acne": ("Acne", _bgr("#ff4d4d")),
    "speckle": ("Spots", _bgr("#ffb347")),
    "mole": ("Moles", _bgr("#c77dff")),
    "wrinkle": ("Wrinkles", _bgr("#4dd0ff")),
    "dark_circle": ("Dark circles", _bgr("#6fa8ff")),
    "eye_bags": ("Eye bags", _bgr("#ffe066")),
    "pores": ("Pores", _bgr("#ff8fd8")),
    "blackhead": ("Blackheads", _bgr("#333333")),
}


def _points(points: Iterable[dict[str, float]], k: float, ox: float = 0.0, oy: float = 0.0) -> np.ndarray:
    return np.round(np.array([[(p["x"] - ox) * k, (p["y"] - oy) * k] for p in points], np.float64)).astype(
        np.int32).reshape(-1, 1, 2)


def draw_findings(image: np.ndarray, faces: list[dict[str, Any]], to_original: float = 1.0,
                  origin: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The seed faces' findings (original px) on a copy of `image` (original px / `to_original`), and a
    legend of the layers drawn. `origin`: the original-px point at the image's top left (a cut-out)."""
    out = image.copy()
    k = 1.0 / to_original
    ox, oy = origin
    thick = max(1, round(max(out.shape[:2]) / 900))
    drawn: list[str] = []

    def mark(layer: str) -> tuple[int, int, int]:
        if layer not in drawn:
            drawn.append(layer)
        return FINDING_LAYERS[layer][1]

    for face in faces:
        loc = face.get("location") or {}
        if loc:
            x0, y0 = (loc["left"] - ox) * k, (loc["top"] - oy) * k
            cv2.rectangle(out, (round(x0), round(y0)), (round(x0 + loc["width"] * k), round(y0 + loc["height"] * k)),
                          mark("location"), thick)
        asm = face.get("acnespotmole") or {}
        for layer in ("acne", "speckle", "mole"):
            for b in asm.get(f"{layer}_list") or []:
                cv2.rectangle(out, (round((b["left"] - ox) * k), round((b["top"] - oy) * k)),
                              (round((b["right"] - ox) * k), round((b["bottom"] - oy) * k)), mark(layer), thick)
        for line in (face.get("wrinkle") or {}).get("wrinkle_data") or []:
            if line:
                cv2.polylines(out, [_points(line, k, ox, oy)], False, mark("wrinkle"), thick, cv2.LINE_AA)
        eyes = face.get("eyesattr") or {}
        for layer, keys in (("dark_circle", ("dark_circle_left", "dark_circle_right")),
                            ("eye_bags", ("eye_bags_left", "eye_bags_right"))):
            for key in keys:
                if eyes.get(key):
                    cv2.polylines(out, [_points(eyes[key], k, ox, oy)], True, mark(layer), thick, cv2.LINE_AA)
        circles = ((face.get("blackheadpore") or {}).get("circles") or [{}])[0]
        for layer, key in (("pores", "pore"), ("blackhead", "blackhead")):
            for c in circles.get(key) or []:
                cv2.circle(out, (round((c["x"] - ox) * k), round((c["y"] - oy) * k)), max(1, round(c["r"] * k)), mark(layer), thick,
                           cv2.LINE_AA)
    _legend(out, drawn, thick)
    return out


def _legend(out: np.ndarray, layers: list[str], thick: int) -> None:
    """Swatch + label per drawn layer, top left, on a light panel so it reads on any photo."""
    if not layers:
        return
    scale, row = 0.45 * thick, int(18 * thick)
    width = int(max(cv2.getTextSize(FINDING_LAYERS[n][0], cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] for n in layers))
    x0, y0 = 8, 8
    panel = out[y0 : y0 + row * len(layers) + 8, x0 : x0 + width + row + 16]
    panel[:] = (0.35 * panel + 0.65 * 255).astype(np.uint8)
    for i, name in enumerate(layers):
        label, colour = FINDING_LAYERS[name]
        y = y0 + 4 + i * row
        cv2.rectangle(out, (x0 + 4, y + 3), (x0 + row - 2, y + row - 3), colour, -1)
        cv2.putText(out, label, (x0 + row + 4, y + row - 5), cv2.FONT_HERSHEY_SIMPLEX, scale, (20, 20, 20), 1,
                    cv2.LINE_AA)
