#!/usr/bin/env python3
"""Truth-known evaluation of `wrinkle` and `eyesattr` on the real test portrait.

The portrait is scikit-image's astronaut (public domain) upscaled so the face is ~500 px wide, on a
1920x1080 frame. Into it we plant
  - wrinkles: thin dark curves of known path, several contrasts and widths, in the forehead, glabella,
    crow's-feet, nasolabial and perioral regions (found from the unplanted photo's face mesh); we
    report the mean coverage of each planted path by detected polylines within 5 px (original px), the
    share of planted wrinkles whose covering polyline has the right type, and the wrinkle count on the
    unplanted photo and on a bilateral-smoothed copy;
  - under-eye darkening of known colour (brownish, neutral darker, bluish-purple) on both eyes; we report
    the dark-circle type per side and whether each eye got a polygon.
Then a clean-jitter section: N clean variants of the portrait (8; --small 3; --jitter N) jittered as in
scripts/eval_lesions.py (shift, scale, roll, exposure, JPEG): wrinkle count on each and on its
bilateral-smoothed copy, and the dark-circle / eye-bag sides reported on each.
Everything is seeded. `--small` runs one planted image (for tests); `--reference` uses the float
reference of the ridge model instead of the int8 model (to see what quantization costs).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from edge.analysis import reference as ref  # noqa: E402
from edge.analysis import ridges  # noqa: E402
from edge.analysis import wrinkle as wr  # noqa: E402
from edge.config import load_settings  # noqa: E402
from edge.face.context import FaceContext  # noqa: E402
from edge.pipeline import Engine  # noqa: E402

FACE_WIDTH_PX = 500  # target face width in the test frame
FRAME = (1920, 1080)
COVER_PX = 5.0  # a planted path sample is covered when a detected polyline passes within this (original px)
# Planted wrinkle styles: darkening at the centre as a fraction of the pixel value, and FWHM width in
# mm on the face (converted with the face's own scale, 63 mm between the pupils): thin lines 0.4-1 mm
# wide, 15-35 % darker at their centre.
CONTRASTS = (0.2, 0.3, 0.4)
WIDTHS_MM = (0.4, 0.7, 1.0)
# (zone, expected type, length in mm (min, max), orientation): orientation "h" across the face, "v" up
# and down, "radial" away from a centre (eye corner / mouth), "axis" along the region's long axis.
PLANTS = (
    ("forehead", wr.FOREHEAD, (14.0, 22.0), "h"),
    ("glabella", wr.GLABELLAR, (6.0, 9.0), "v"),
    ("crows_feet_left", wr.CROWS_FEET, (6.0, 10.0), "radial"),
    ("crows_feet_right", wr.CROWS_FEET, (6.0, 10.0), "radial"),
    ("nasolabial_left", wr.NASOLABIAL, (9.0, 14.0), "axis"),
    ("nasolabial_right", wr.NASOLABIAL, (9.0, 14.0), "axis"),
    ("perioral", wr.PERIORAL, (5.0, 8.0), "radial"),
)
# Also planted, reported apart from the acceptance figures (drawn from their own random stream, so the
# acceptance plan does not depend on them): fine lines under the eyes, along the lower lid.
EXTRA_PLANTS = (
    ("under_eye_left", wr.EYE_FINE, (4.5, 7.0), "lid"),
    ("under_eye_right", wr.EYE_FINE, (4.5, 7.0), "lid"),
)
EXTRA_SEED_OFFSET = 1000
# Under-eye darkening: OD added at the centre of the under-eye region, per kind. Brown = melanin's
# absorbance; neutral = equal in R, G, B (a shadow); bluish-purple = red and green absorbed more than
# blue (deoxygenated blood seen through thin skin).
DARKENING_OD = {
    "pigment": np.asarray(ref.MELANIN_OD) * 0.35,
    "shadow": np.array([1.0, 1.0, 1.0]) * 0.2,
    "vascular": np.array([0.7, 0.75, 0.3]) * 0.3,
}
DARK_CIRCLE_TYPE = {"pigment": 0, "shadow": 1, "vascular": 2}


def test_portrait(face_width: int = FACE_WIDTH_PX) -> np.ndarray:
    """The astronaut, upscaled so the face is ~face_width px wide, cut to a 1920x1080 BGR frame."""
    from skimage import data

    src = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    scale = face_width / 92.0  # the astronaut's face (mesh cheek to cheek) is ~92 px wide
    big = cv2.resize(src, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    cx, cy = int(224 * scale), int(140 * scale)  # face centre in the upscaled photo
    w, h = FRAME
    x0 = int(np.clip(cx - w // 2, 0, big.shape[1] - w)) if big.shape[1] >= w else 0
    y0 = int(np.clip(cy - h // 2, 0, big.shape[0] - h)) if big.shape[0] >= h else 0
    frame = np.full((h, w, 3), 128, np.uint8)
    part = big[y0:y0 + h, x0:x0 + w]
    frame[:part.shape[0], :part.shape[1]] = part
    return frame


@dataclass
class Planted:
    zone: str
    type: int
    path: np.ndarray  # (N, 2) original px, 1-px spacing
    contrast: float
    width: float  # FWHM, original px


def _densify(pts: np.ndarray, step: float = 1.0) -> np.ndarray:
    pts = np.asarray(pts, np.float64)
    if len(pts) < 2:
        return pts
    seg = np.hypot(*np.diff(pts, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    at = np.arange(0.0, arc[-1] + 1e-9, step)
    return np.column_stack([np.interp(at, arc, pts[:, 0]), np.interp(at, arc, pts[:, 1])])


def _curve(centre: np.ndarray, direction: np.ndarray, length: float, bend: float) -> np.ndarray:
    """A gently bent (quadratic) curve of `length` through centre along direction (crop px)."""
    t = np.linspace(-0.5, 0.5, 41)[:, None]
    normal = np.array([-direction[1], direction[0]])
    return centre + t * length * direction + (0.25 - t**2) * bend * length * normal


def plan_wrinkles(ctx: FaceContext, rng: np.random.Generator, plants: tuple = PLANTS) -> list[Planted]:
    """One wrinkle per planting zone, in crop px inside the zone's visible skin, converted
    to original px; style drawn from CONTRASTS x WIDTHS."""
    out = []
    px_per_mm = 1.0 / ctx.mm_per_px
    lips_c = ctx.regions.polygon("lips").mean(0)
    gray = ref.gray_input(ctx.crop)
    hair = wr.WrinkleFinder(ctx).hair_mask(cv2.GaussianBlur(ridges.darkness(gray), (0, 0), 1.0))
    for zone, kind, (lo, hi), orient in plants:
        # Visible skin of the zone (hair-covered parts are not skin), a margin off its border.
        mask = cv2.erode(ctx.regions.mask(zone) & ~(hair.astype(np.uint8) * 255), np.ones((5, 5), np.uint8))
        ys, xs = np.nonzero(mask)
        if len(ys) == 0:
            continue
        for _ in range(400):
            i = rng.integers(len(ys))
            centre = np.array([xs[i], ys[i]], np.float64)
            if orient == "h":
                ang = np.radians(rng.uniform(-12, 12))
            elif orient == "v":
                ang = np.radians(90 + rng.uniform(-12, 12))
            elif orient == "lid":  # along the eye's axis (under-eye lines run with the lower lid)
                eye = ctx.regions.polygon("eye_" + zone.rsplit("_", 1)[1])
                axis = eye[8] - eye[0]
                ang = np.arctan2(axis[1], axis[0]) + np.radians(rng.uniform(-8, 8))
            elif orient == "axis":
                band = ctx.regions.polygon(zone)
                axis = band[1] - band[0]
                ang = np.arctan2(axis[1], axis[0]) + np.radians(rng.uniform(-8, 8))
            else:  # radial from the eye corner or the mouth centre
                if zone.startswith("crows_feet"):
                    corner = ctx.landmarks_crop[263 if zone.endswith("left") else 33, :2]
                    origin = np.asarray(corner, np.float64)
                else:
                    origin = lips_c
                v = centre - origin
                ang = np.arctan2(v[1], v[0]) + np.radians(rng.uniform(-10, 10))
            direction = np.array([np.cos(ang), np.sin(ang)])
            length = rng.uniform(lo, hi) * px_per_mm
            crop_path = _curve(centre, direction, length, rng.uniform(-0.15, 0.15))
            ix = np.round(crop_path).astype(int)
            if ix.min() < 0 or ix.max() >= ctx.crop_size or not mask[ix[:, 1], ix[:, 0]].all():
                continue
            path = _densify(ctx.crop_to_original(crop_path))
            width_px = float(rng.choice(WIDTHS_MM)) / ctx.mm_per_px / ctx.crop_px_per_image_px
            out.append(Planted(zone, kind, path, float(rng.choice(CONTRASTS)), width_px))
            break
    return out


def draw_wrinkles(bgr: np.ndarray, planted: list[Planted]) -> np.ndarray:
    """Multiply pixels near each path by 1 - contrast * exp(-d^2 / 2 s^2), FWHM = width."""
    img = bgr.astype(np.float32)
    h, w = img.shape[:2]
    for p in planted:
        s = p.width / 2.355
        pad = int(np.ceil(4 * s)) + 2
        x0, y0 = (np.floor(p.path.min(0)) - pad).astype(int)
        x1, y1 = (np.ceil(p.path.max(0)) + pad).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        # Distance to the path at 4x supersampling, then area-averaged (antialiased line).
        k = 4
        canvas = np.full(((y1 - y0) * k, (x1 - x0) * k), 255, np.uint8)
        pts = np.round((p.path - [x0, y0]) * k + (k - 1) / 2).astype(np.int32)
        cv2.polylines(canvas, [pts], False, 0, 1)
        dist = cv2.distanceTransform(canvas, cv2.DIST_L2, 5) / k
        shade = 1.0 - p.contrast * np.exp(-0.5 * (dist / s) ** 2)
        shade = cv2.resize(shade, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        img[y0:y1, x0:x1] *= shade[..., None]
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def coverage(planted: Planted, detected: list[np.ndarray]) -> tuple[float, int]:
    """(share of the planted path within COVER_PX of any detected polyline, index of the polyline
    covering the most samples or -1)."""
    best, best_i = np.zeros(len(planted.path), bool), -1
    covered_any = np.zeros(len(planted.path), bool)
    best_count = 0
    for i, det in enumerate(detected):
        dense = _densify(det)
        if len(dense) == 0:
            continue
        d2 = ((planted.path[:, None, :] - dense[None, :, :]) ** 2).sum(-1).min(1)
        near = d2 <= COVER_PX**2
        covered_any |= near
        if near.sum() > best_count:
            best_count, best_i, best = int(near.sum()), i, near
    del best
    return float(covered_any.mean()), best_i


def _polylines(face: dict) -> tuple[list[np.ndarray], list[int]]:
    w = face["wrinkle"]
    return [np.array([[p["x"], p["y"]] for p in line]) for line in w["wrinkle_data"]], list(w["wrinkle_types"])


def plant_dark_circles(bgr: np.ndarray, ctx: FaceContext, kind: str) -> np.ndarray:
    """Add DARKENING_OD[kind] (soft-edged) over both under-eye regions."""
    h, w = bgr.shape[:2]
    soft = np.zeros((h, w), np.float32)
    for side in ("left", "right"):
        poly = ctx.crop_to_original(ctx.regions.polygon(f"under_eye_{side}"))
        cv2.fillPoly(soft, [np.round(poly).astype(np.int32)], 1.0)
    blur = max(0.5 / ctx.mm_per_px / ctx.crop_px_per_image_px, 1.0)  # ~0.5 mm soft edge
    soft = cv2.GaussianBlur(soft, (0, 0), blur)
    od_bgr = DARKENING_OD[kind][::-1].astype(np.float32)
    factor = np.exp(-soft[..., None] * od_bgr)
    return np.clip(bgr.astype(np.float32) * factor + 0.5, 0, 255).astype(np.uint8)


# Eye-bag plants (eye-aligned coordinates: u across the eye from the inner corner, v below the lid in
# eye widths). Fat bag: a lighter bulge under the lid over the central/lateral eye with a dark crease
# below it; tear trough: a dark groove from the inner corner down and out; mixed: both.
BAG_KINDS = {"fat": 1, "tear_trough": 2, "mixed": 3}
BULGE = {"u": (0.3, 1.0), "v": (0.05, 0.22), "gain": 0.10}
CREASE = {"u": (0.3, 1.0), "v": 0.27, "depth": 0.22, "width_mm": 1.2}
GROOVE = {"from": (0.05, 0.12), "to": (0.42, 0.42), "depth": 0.25, "width_mm": 1.6}


def _eye_point(lid: np.ndarray, down: np.ndarray, width: float, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    seg = np.hypot(*np.diff(lid, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)]) / seg.sum()
    base = np.column_stack([np.interp(u, arc, lid[:, 0]), np.interp(u, arc, lid[:, 1])])
    return base + np.outer(v * width, down)


def _line_shade(size: int, pts: np.ndarray, depth: float, fwhm_px: float) -> np.ndarray:
    canvas = np.full((size, size), 255, np.uint8)
    cv2.polylines(canvas, [np.round(pts).astype(np.int32)], False, 0, 1)
    dist = cv2.distanceTransform(canvas, cv2.DIST_L2, 5)
    return 1.0 - depth * np.exp(-0.5 * (dist / (fwhm_px / 2.355)) ** 2)


def plant_eye_bags(bgr: np.ndarray, ctx: FaceContext, kind: str, store: object = None) -> np.ndarray:
    """Shade both under-eye areas (crop space, warped back to the photo) with a fat bag, a tear trough or both."""
    from edge.analysis.eyesattr import EyeAreaReader

    size = ctx.crop_size
    shade = np.ones((size, size), np.float32)
    reader = EyeAreaReader(ctx, store)  # type: ignore[arg-type]
    px_per_mm = 1.0 / ctx.mm_per_px
    for side in ("left", "right"):
        lid, down, width = reader.lid_frame(side)
        if kind in ("fat", "mixed"):
            uu = np.linspace(*BULGE["u"], 20)
            top = _eye_point(lid, down, width, uu, np.full(20, BULGE["v"][0]))
            bottom = _eye_point(lid, down, width, uu, np.full(20, BULGE["v"][1]))
            bump = np.zeros((size, size), np.float32)
            cv2.fillPoly(bump, [np.round(np.vstack([top, bottom[::-1]])).astype(np.int32)], 1.0)
            shade *= 1.0 + BULGE["gain"] * cv2.GaussianBlur(bump, (0, 0), 0.7 * px_per_mm)
            uu = np.linspace(*CREASE["u"], 30)
            shade *= _line_shade(size, _eye_point(lid, down, width, uu, np.full(30, CREASE["v"])),
                                 CREASE["depth"], CREASE["width_mm"] * px_per_mm)
        if kind in ("tear_trough", "mixed"):
            t = np.linspace(0.0, 1.0, 30)
            uu = GROOVE["from"][0] + t * (GROOVE["to"][0] - GROOVE["from"][0])
            vv = GROOVE["from"][1] + t * (GROOVE["to"][1] - GROOVE["from"][1])
            shade *= _line_shade(size, _eye_point(lid, down, width, uu, vv), GROOVE["depth"],
                                 GROOVE["width_mm"] * px_per_mm)
    h, w = bgr.shape[:2]
    m = ctx.crop_to_image_matrix.copy()
    m *= ctx.to_original  # analysis px -> original px (1 for frames within the analysis size)
    factor = cv2.warpAffine(shade, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=1.0)
    return np.clip(bgr.astype(np.float32) * factor[..., None] + 0.5, 0, 255).astype(np.uint8)


def use_reference_maps() -> None:
    """Run the wrinkle analyzer on the ridge model's float reference instead of the int8 model."""

    def maps(ctx: FaceContext, store: object) -> dict[str, np.ndarray]:
        gray = ref.gray_input(ctx.crop)
        return ridges.relative_maps(ridges.ridge_hessian_reference(gray), gray)

    ridges.hessian_maps = maps  # type: ignore[assignment]


def bilateral(bgr: np.ndarray) -> np.ndarray:
    """The 'beauty filter' copy: a strong edge-preserving smoothing (removes fine lines, keeps edges)."""
    return cv2.bilateralFilter(bgr, 15, 40, 10)


def evaluate_wrinkles(engine: Engine, images: int, seed: int, extra_zones: bool = True) -> dict:
    """Acceptance figures (PLANTS) plus, with extra_zones, the under-eye lines (EXTRA_PLANTS) apart."""
    base = test_portrait()
    ctx = engine.face_contexts(base)[0]
    rng = np.random.default_rng(seed)
    rng_extra = np.random.default_rng(seed + EXTRA_SEED_OFFSET)
    covers, correct, total, extra = [], 0, 0, 0
    extra_covers, extra_correct = [], 0
    rows = []
    for _ in range(images):
        planted = plan_wrinkles(ctx, rng)
        bonus = plan_wrinkles(ctx, rng_extra, EXTRA_PLANTS) if extra_zones else []
        img = draw_wrinkles(base, planted + bonus)
        face = engine.analyze(img, ["wrinkle"])[0]
        lines, types = _polylines(face)
        used = set()
        for p in planted + bonus:
            cov, idx = coverage(p, lines)
            got = types[idx] if idx >= 0 else None
            used.add(idx)
            rows.append((p.zone, p.contrast, p.width, cov, p.type, got))
            if p in bonus:
                extra_covers.append(cov)
                extra_correct += int(got == p.type)
                continue
            covers.append(cov)
            total += 1
            correct += int(got == p.type)
        extra += len([i for i in range(len(lines)) if i not in used])
    n_base = engine.analyze(base, ["wrinkle"])[0]["wrinkle"]["wrinkle_num"]
    n_smooth = engine.analyze(bilateral(base), ["wrinkle"])[0]["wrinkle"]["wrinkle_num"]
    return {"coverage": float(np.mean(covers)), "type_accuracy": correct / max(total, 1), "planted": total,
            "under_eye_coverage": float(np.mean(extra_covers)) if extra_covers else float("nan"),
            "under_eye_type_accuracy": extra_correct / max(len(extra_covers), 1),
            "under_eye_planted": len(extra_covers), "unmatched_detections": extra, "unplanted_count": n_base, "bilateral_count": n_smooth, "rows": rows}


def evaluate_eyes(engine: Engine) -> dict:
    base = test_portrait()
    ctx = engine.face_contexts(base)[0]
    out = {}
    for kind in DARKENING_OD:
        face = engine.analyze(plant_dark_circles(base, ctx, kind), ["eyesattr"])[0]["eyesattr"]
        out[kind] = {
            "want": DARK_CIRCLE_TYPE[kind],
            "left": face["dark_circle_left_type"], "right": face["dark_circle_right_type"],
            "polygons": (len(face["dark_circle_left"]) > 2, len(face["dark_circle_right"]) > 2),
        }
    for kind, want in BAG_KINDS.items():
        face = engine.analyze(plant_eye_bags(base, ctx, kind), ["eyesattr"])[0]["eyesattr"]
        out[f"bags:{kind}"] = {
            "want": want, "left": face["eye_bags_left_type"], "right": face["eye_bags_right_type"],
            "polygons": (len(face["eye_bags_left"]) > 2, len(face["eye_bags_right"]) > 2),
        }
    out["unplanted"] = engine.analyze(base, ["eyesattr"])[0]["eyesattr"]
    return out


# Clean jitter: the unplanted portrait under small, seeded capture changes (the lesion eval's jitter).
JITTER_N, JITTER_N_SMALL = 8, 3
JITTER_SEED = 100


def _eye_findings(face: dict) -> dict[str, int]:
    """Sides (0-2) with a dark circle and with an eye bag reported."""
    e = face["eyesattr"]
    return {"dark_circle": sum(bool(e[f"dark_circle_{s}_type"]) for s in ("left", "right")),
            "eye_bags": sum(bool(e[f"eye_bags_{s}_type"]) for s in ("left", "right"))}


def evaluate_clean_jitter(engine: Engine, n: int = JITTER_N, seed: int = JITTER_SEED) -> dict:
    """Wrinkle count on N jittered clean copies of the portrait and on their bilateral-smoothed copies;
    dark-circle / eye-bag findings (sides) on the jittered clean copies; the unjittered portrait beside."""
    from eval_lesions import face_centre, jitter

    base = test_portrait()
    centre = face_centre(engine.face_contexts(base)[0])
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        img, params = jitter(base, centre, rng)
        face = engine.analyze(img, ["wrinkle", "eyesattr"])
        smooth = engine.analyze(bilateral(img), ["wrinkle"])
        rows.append({**params, "face": bool(face),
                     "clean": face[0]["wrinkle"]["wrinkle_num"] if face else None,
                     "bilateral": smooth[0]["wrinkle"]["wrinkle_num"] if smooth else None,
                     **(_eye_findings(face[0]) if face else {"dark_circle": None, "eye_bags": None})})
    unjittered = engine.analyze(base, ["wrinkle", "eyesattr"])[0]

    def stats(key: str) -> dict:
        v = [r[key] for r in rows if r[key] is not None]
        return {"max": max(v), "mean": float(np.mean(v)), "total": int(sum(v)), "values": v}

    return {"n": n, "seed": seed, "rows": rows, "faces_missed": sum(not r["face"] for r in rows),
            "clean": stats("clean"), "bilateral": stats("bilateral"), "dark_circle": stats("dark_circle"),
            "eye_bags": stats("eye_bags"),
            "unjittered": {"clean": unjittered["wrinkle"]["wrinkle_num"],
                           "bilateral": engine.analyze(bilateral(base), ["wrinkle"])[0]["wrinkle"]["wrinkle_num"],
                           **_eye_findings(unjittered)}}


def print_clean_jitter(r: dict) -> None:
    from eval_lesions import JITTER_EXPOSURE, JITTER_JPEG, JITTER_ROLL_DEG, JITTER_SCALE, JITTER_SHIFT_PX

    print(f"clean jitter: {r['n']} clean variants of the portrait (seed {r['seed']}; shift +-{JITTER_SHIFT_PX:g} px, "
          f"scale +-{JITTER_SCALE:.0%}, roll +-{JITTER_ROLL_DEG:g} deg, exposure +-{JITTER_EXPOSURE:.0%}, "
          f"JPEG {JITTER_JPEG[0]}-{JITTER_JPEG[1]}); variants without a face: {r['faces_missed']}")
    print(f"  {'per image':<34}{'max':>5}{'mean':>7}{'total':>7}  values   (unjittered)")
    for key, label in (("clean", "wrinkles, clean"), ("bilateral", "wrinkles, bilateral-smoothed"),
                       ("dark_circle", "dark-circle sides, clean"), ("eye_bags", "eye-bag sides, clean")):
        v = r[key]
        unj = r["unjittered"].get(key, "")
        print(f"  {label:<34}{v['max']:>5}{v['mean']:>7.2f}{v['total']:>7}  {v['values']}   ({unj})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="one planted image (quick, for tests)")
    parser.add_argument("--images", type=int, default=6, help="planted images (7 wrinkles each)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--reference", action="store_true", help="float reference instead of the int8 model")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--jitter", type=int, help=f"clean jittered variants (default {JITTER_N}, --small "
                        f"{JITTER_N_SMALL}; 0 skips the clean-jitter section)")
    args = parser.parse_args(argv)
    if args.reference:
        use_reference_maps()
    engine = Engine.from_settings(load_settings())
    res = evaluate_wrinkles(engine, 1 if args.small else args.images, args.seed)
    if args.verbose:
        for zone, c, w, cov, want, got in res["rows"]:
            print(f"  {zone:<18} contrast {c:.2f} width {w:.1f}px  coverage {cov:.2f}  type {want} -> {got}")
    print(f"wrinkle: planted {res['planted']}, mean coverage within {COVER_PX:g} px {res['coverage']:.3f}, "
          f"type accuracy {res['type_accuracy']:.3f}, unmatched detections {res['unmatched_detections']}; "
          f"unplanted photo {res['unplanted_count']} wrinkles, bilateral-smoothed copy {res['bilateral_count']}")
    print(f"wrinkle: also under the eyes (type 3): planted {res['under_eye_planted']}, coverage "
          f"{res['under_eye_coverage']:.3f}, type accuracy {res['under_eye_type_accuracy']:.3f}")
    eyes = evaluate_eyes(engine)
    for kind in DARKENING_OD:
        e = eyes[kind]
        print(f"eyesattr: {kind:<8} want {e['want']}  left {e['left']} right {e['right']}  polygons {e['polygons']}")
    for kind in BAG_KINDS:
        e = eyes[f"bags:{kind}"]
        print(f"eyesattr: bags {kind:<12} want {e['want']}  left {e['left']} right {e['right']}  polygons {e['polygons']}")
    print(f"eyesattr: unplanted photo types left {eyes['unplanted']['dark_circle_left_type']} "
          f"right {eyes['unplanted']['dark_circle_right_type']}, bags {eyes['unplanted']['eye_bags_left_type']} "
          f"{eyes['unplanted']['eye_bags_right_type']}")
    n_jitter = args.jitter if args.jitter is not None else (JITTER_N_SMALL if args.small else JITTER_N)
    if n_jitter:
        print_clean_jitter(evaluate_clean_jitter(engine, n_jitter))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
