#!/usr/bin/env python3
"""Repeatability of `acnespotmole` on real photos: the same face re-rendered as a kiosk would vary it.

    .venv/bin/python scripts/eval_repeat.py ../shared/data/acne-new-v36/valid            # 40 faces
    .venv/bin/python scripts/eval_repeat.py ../shared/data/acne-new-v36/valid --faces 30 --json out.json

Each face (the first N photos of the split, by name, that have labelled lesions) is analysed as it is and
re-rendered seven ways: exposure x0.9 and x1.1, white balance (red x1.08 / blue x0.92 and the reverse),
a JPEG round trip at quality 70, a 4 px shift and a 3 degree rotation about the image centre (reflected
borders). Per family (acne, speckle, mole) and variant, the count change of a face is
|n_variant - n_original| / max(n_original, n_variant): 0 when the count holds, 1 when it appears or
vanishes; faces with no finding of the family in either image are left out of that family. Prints the
median and p90 per family and variant and pooled, and how many seed types change among the findings
that are at the same place in both images (the matching rule of eval_real.py).

One more rendering is reported beside them and left out of the pooled figures: every pixel moved one grey level
up or down at random (seeded per face), a change no one can see. Its count change is the detector's noise
floor: what any rendering costs at the least, however well the face is framed.

`--scale-noise 0.5,0.25` asks how much steadier the scores would have to be: each finding found in both
renderings (eval_real's matching rule) has its calibrated-logit change scaled by each factor before the
operating thresholds apply, and the pooled figures are printed again (factor 1 is the product as it is).

Beside the relative measure, the pooled absolute change |n_variant - n_original| (findings) over the same
faces: its p90 and the share of face-renderings whose count moved by at most one. Counts are small (one
mole on a face is typical), so one finding crossing its threshold is a relative change of 33-100 %.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import yolo_data as yd  # noqa: E402
from eval_real import findings_of, match, operating_point_of  # noqa: E402

EXPOSURE = 0.10  # the issue's +-10 % exposure
WHITE_BALANCE = 0.08  # +-8 % on red against blue
JPEG_QUALITY = 70
SHIFT_PX = 4
ROTATION_DEG = 3.0
MEDIAN_BAR, P90_BAR = 0.15, 0.35  # the acceptance: median <= 15 %, p90 <= 35 %


def _gain(img: np.ndarray, bgr: tuple[float, float, float]) -> np.ndarray:
    return np.clip(img.astype(np.float32) * np.array(bgr, np.float32), 0, 255).astype(np.uint8)


def _dither(img: np.ndarray, seed: int) -> np.ndarray:
    """Every pixel and channel one grey level up or down (at random, seeded)."""
    step = np.random.default_rng(seed).choice(np.array([-1, 1], np.int16), img.shape)
    return np.clip(img.astype(np.int16) + step, 0, 255).astype(np.uint8)


def _jpeg(img: np.ndarray) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def _shift_matrix(w: int, h: int) -> np.ndarray:
    return np.array([[1, 0, SHIFT_PX], [0, 1, SHIFT_PX]], np.float64)


def _rotation_matrix(w: int, h: int) -> np.ndarray:
    return cv2.getRotationMatrix2D((w / 2, h / 2), ROTATION_DEG, 1.0)


GEOMETRIC = {"shift 4 px": _shift_matrix, "rotate 3 deg": _rotation_matrix}  # variant -> (2, 3) image-px map


def _warp(name: str) -> Callable[[np.ndarray], np.ndarray]:
    def render(img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        return cv2.warpAffine(img, GEOMETRIC[name](w, h), (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT_101)

    return render


def _forward(img: np.ndarray, name: str) -> np.ndarray:
    """(3, 3) image-px transform of a variant (identity for the photometric ones)."""
    h, w = img.shape[:2]
    m = GEOMETRIC[name](w, h) if name in GEOMETRIC else np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    return np.vstack([m, [0, 0, 1]])


VARIANTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "exposure -10 %": lambda im: _gain(im, (1 - EXPOSURE,) * 3),
    "exposure +10 %": lambda im: _gain(im, (1 + EXPOSURE,) * 3),
    "warmer 8 %": lambda im: _gain(im, (1 - WHITE_BALANCE, 1.0, 1 + WHITE_BALANCE)),
    "cooler 8 %": lambda im: _gain(im, (1 + WHITE_BALANCE, 1.0, 1 - WHITE_BALANCE)),
    "jpeg q70": _jpeg,
    "shift 4 px": _warp("shift 4 px"),
    "rotate 3 deg": _warp("rotate 3 deg"),
}
FLOOR = "dither 1 grey level"  # reported beside VARIANTS, not pooled: the noise floor of the detector


def count_change(n0: int, n1: int) -> float | None:
    """|n1 - n0| / max(n0, n1); None when neither image has a finding."""
    return None if max(n0, n1) == 0 else abs(n1 - n0) / max(n0, n1)


def _moved(found: list[dict[str, Any]], m: np.ndarray) -> np.ndarray:
    """Finding boxes (N, 4) mapped by the variant's transform (their centres move, sizes kept)."""
    boxes = np.array([f["box"] for f in found], float).reshape(-1, 4)
    if not len(boxes):
        return boxes
    c = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) / 2
    c2 = c @ m[:2, :2].T + m[:2, 2]
    return np.hstack([c2 - half, c2 + half])


Findings = list[dict[str, Any]]


def _renderings(split: Path, faces: int, engine, renders: dict[str, Callable[[np.ndarray], np.ndarray] | None]):
    """(face number from 1, image, base findings, variant name, variant findings or None when no face was found)
    for each of the first `faces` labelled photos of the split with a face and each rendering (None: the FLOOR
    dither)."""
    from edge.errors import SkinKioskError

    def analyze(img: np.ndarray) -> Findings | None:
        try:
            return findings_of(engine.analyze(img, ["acnespotmole"], max_faces=1)[0])
        except SkinKioskError:
            return None

    used = 0
    for item in yd.load_split(split):
        if used >= faces:
            break
        if item.clean:
            continue
        img = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
        base = analyze(img) if img is not None else None
        if base is None:
            continue
        used += 1
        for name, render in renders.items():
            yield used, img, base, name, analyze(render(img) if render is not None else _dither(img, used))


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "median": None, "p90": None, "changed": None}
    return {"n": len(values), "median": round(float(np.median(values)), 3),
            "p90": round(float(np.percentile(values, 90)), 3),
            "changed": round(float(np.mean(np.asarray(values) > 0)), 3)}  # share whose count changed at all


def _absolute_stats(values: list[int]) -> dict[str, Any]:
    """p90 of the absolute count changes and the share that are at most one finding."""
    if not values:
        return {"n": 0, "p90": None, "within_one": None}
    arr = np.asarray(values)
    return {"n": len(values), "p90": float(np.percentile(arr, 90)), "within_one": round(float(np.mean(arr <= 1)), 3)}


def _engine(engine):
    if engine is not None:
        return engine
    from edge.config import Settings
    from edge.pipeline import Engine

    return Engine(Settings())


def evaluate(split: Path, faces: int = 40, engine=None) -> dict[str, Any]:
    renders = {**VARIANTS, FLOOR: None}
    changes: dict[str, dict[str, list[float]]] = {v: {f: [] for f in yd.FAMILIES} for v in renders}
    absolute: dict[str, list[int]] = {f: [] for f in yd.FAMILIES}  # pooled over VARIANTS, same faces as `changes`
    types = {"same_place": 0, "type_changed": 0}
    used, lost = 0, 0
    for face, img, base, name, var in _renderings(split, faces, _engine(engine), renders):
        used = face
        if var is None:
            lost += 1
            var = []
        for fam in yd.FAMILIES:
            a = [f for f in base if f["family"] == fam]
            b = [f for f in var if f["family"] == fam]
            c = count_change(len(a), len(b))
            if c is not None:
                changes[name][fam].append(c)
                if name in VARIANTS:
                    absolute[fam].append(abs(len(b) - len(a)))
            if fam in ("acne", "speckle") and name in VARIANTS:  # the typed families
                pairs = match(np.array([f["box"] for f in b]).reshape(-1, 4), _moved(a, _forward(img, name)))
                types["same_place"] += len(pairs)
                types["type_changed"] += sum(b[i]["type"] != a[j]["type"] for i, j in pairs)

    table = {name: {fam: _stats(changes[name][fam]) for fam in yd.FAMILIES} for name in VARIANTS}
    floor = {fam: _stats(changes[FLOOR][fam]) for fam in yd.FAMILIES}
    pooled = {fam: _stats([c for name in VARIANTS for c in changes[name][fam]]) for fam in yd.FAMILIES}
    return {"split": str(split), "faces": used, "variants": list(VARIANTS), "faces_lost_in_variants": lost,
            "per_variant": table, "pooled": pooled, "noise_floor": floor, "seed_types": types,
            "pooled_absolute": {fam: _absolute_stats(absolute[fam]) for fam in yd.FAMILIES},
            "accept": all(v["n"] == 0 or (v["median"] <= MEDIAN_BAR and v["p90"] <= P90_BAR) for v in pooled.values())}


CANDIDATE_FLOOR = 0.02  # --scale-noise keeps findings down to this score: every operating threshold is above 0.1


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))


def scaled_count_change(base: list[dict[str, Any]], var: list[dict[str, Any]], moved: np.ndarray, family: str,
                        threshold: dict[str, float], factor: float) -> float | None:
    """The family's count change at the operating thresholds when each finding found in both renderings (same
    operating point, eval_real's matching rule) has its calibrated-logit change scaled by `factor`. `moved`: the
    base findings' boxes in the variant's pixels."""
    n0 = n1 = 0
    for point in {operating_point_of(f, threshold) for f in base + var if f["family"] == family}:
        ia = [k for k, f in enumerate(base) if f["family"] == family and operating_point_of(f, threshold) == point]
        ib = [k for k, f in enumerate(var) if f["family"] == family and operating_point_of(f, threshold) == point]
        scores = [var[k]["score"] for k in ib]
        boxes = np.array([var[k]["box"] for k in ib], float).reshape(-1, 4)
        for i, j in match(boxes, moved[ia].reshape(-1, 4)):
            z0 = _logit(base[ia[j]]["score"])
            scores[i] = 1 / (1 + np.exp(-(z0 + factor * (_logit(scores[i]) - z0))))
        n0 += sum(base[k]["score"] >= threshold[point] for k in ia)
        n1 += sum(sc >= threshold[point] for sc in scores)
    return count_change(n0, n1)


def noise_scaling(split: Path, factors: list[float], faces: int = 40, engine=None) -> dict[str, Any]:
    """Pooled count change per family (as `evaluate`) for each score-noise factor."""
    engine = _engine(engine)
    analyzer = engine.analyzer("acnespotmole")
    operating = dict(analyzer.thresholds)
    analyzer.thresholds = dict.fromkeys(operating, CANDIDATE_FLOOR)
    changes: dict[float, dict[str, list[float]]] = {x: {f: [] for f in yd.FAMILIES} for x in factors}
    used = 0
    try:
        for face, img, base, name, var in _renderings(split, faces, engine, VARIANTS):
            used = face
            moved = _moved(base, _forward(img, name))
            for x in factors:
                for fam in yd.FAMILIES:
                    c = scaled_count_change(base, var or [], moved, fam, operating, x)
                    if c is not None:
                        changes[x][fam].append(c)
    finally:
        analyzer.thresholds = operating
    return {"faces": used,
            "factors": {x: {f: _stats(v) for f, v in changes[x].items()} for x in factors}}


def print_report(rep: dict[str, Any]) -> None:
    print(f"# eval_repeat: {rep['split']}: {rep['faces']} faces x {len(rep['variants'])} variants "
          f"(no face found in {rep['faces_lost_in_variants']} variants)")
    print("count change |n_var - n_orig| / max(n_orig, n_var): median / p90, share of faces whose count changed "
          "(n: faces with the family)")
    print("| variant | " + " | ".join(yd.FAMILIES) + " |")
    print("|---|" + "---|" * len(yd.FAMILIES))
    rows = list(rep["per_variant"].items()) + [("pooled", rep["pooled"]),
                                                 (f"{FLOOR} (noise floor, not pooled)", rep["noise_floor"])]
    for name, row in rows:
        cells = [f"{v['median']:.2f} / {v['p90']:.2f}, {v['changed']:.0%} (n {v['n']})" if v["n"] else "-"
                 for v in row.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    cells = [f"{fam} {v['p90']:g} / {v['within_one']:.0%}" if v["n"] else f"{fam} -"
             for fam, v in rep["pooled_absolute"].items()]
    print("pooled absolute change |n_var - n_orig| (findings): p90 / share within one finding: " + ", ".join(cells))
    t = rep["seed_types"]
    share = t["type_changed"] / max(t["same_place"], 1)
    print(f"\nseed type changed for {t['type_changed']} of {t['same_place']} acne/speckle findings found at the "
          f"same place ({share:.1%})")
    print(f"acceptance (pooled median <= {MEDIAN_BAR:.0%}, p90 <= {P90_BAR:.0%}): {rep['accept']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("split", type=Path, help="a YOLO split folder with images/ and labels/")
    ap.add_argument("--faces", type=int, default=40, help="how many faces (at least 30 for the issue)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--scale-noise", default="", help="comma-separated factors for the score noise (e.g. 0.5,0.25)")
    args = ap.parse_args(argv)
    rep = evaluate(args.split, args.faces)
    print_report(rep)
    if args.scale_noise:
        factors = [1.0] + [float(x) for x in args.scale_noise.split(",")]
        rep["noise_scaling"] = scaled = noise_scaling(args.split, factors, args.faces)
        print("\npooled count change if the scores moved by factor x their change between renderings "
              "(median / p90, share changed)")
        print("| factor | " + " | ".join(yd.FAMILIES) + " |")
        print("|---|" + "---|" * len(yd.FAMILIES))
        for x, row in scaled["factors"].items():
            cells = [f"{v['median']:.2f} / {v['p90']:.2f}, {v['changed']:.0%}" if v["n"] else "-" for v in row.values()]
            print(f"| {x:g} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(rep, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
