#!/usr/bin/env python3
"""The minimal detectable change of every concern score, on real faces re-rendered as a kiosk varies them.

    .venv/bin/python scripts/concern_repeatability.py ../shared/data/acne-new-v36/valid            # every face, ~7 min
    .venv/bin/python scripts/concern_repeatability.py ../shared/data/acne-new-v36/valid --faces 80 --check

Each face (the first N photos of the split, by name, where a face is found) is analysed as it is and in
the seven renderings of scripts/eval_repeat.py (exposure -+10 %, white balance -+8 %, JPEG q70, 4 px
shift, 3 degree rotation; imported from there, not copied), with the fields the concern scores use and
`extended`. Per concern:

  SEM   = sqrt(mean over faces of the variance of its score across the face's 8 renderings)
  MDC95 = 1.96 * sqrt(2) * SEM   (Weir 2005: the smallest change between two visits that is larger than
          measurement noise with 95 % confidence; the standard choice, and it uses every rendering)

also reported: p95 of |variant - original|, and the distribution of the raw measurements on the
originals (shown to choose the full scales of edge/shop/concerns.py that say "chosen on data").
Writes edge/shop/repeatability.json (committed; the product reads only that file). `--check` compares a
fresh run with the committed table and exits 1 when an MDC differs by more than 1 point.

The renderings vary light, compression and framing, not the skin or the day: real visits differ more
(pose, make-up, season), so these MDCs are lower bounds of the change that is noise.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import yolo_data as yd  # noqa: E402
from eval_repeat import VARIANTS  # noqa: E402

from edge.shop.concerns import CONCERN_FIELDS, DEFINITIONS_VERSION, concern_scores  # noqa: E402
from edge.shop.vocabulary import CONCERNS  # noqa: E402

TABLE = ROOT / "edge" / "shop" / "repeatability.json"
Z95 = 1.96
CHECK_TOLERANCE = 1.0  # score points: a re-run on another machine may differ by float noise only


def raw_measures(face: dict[str, Any]) -> dict[str, float]:
    """The measurements behind the full scales chosen on data (see edge/shop/concerns.py)."""
    ext = face.get("extended", {})
    bp = face.get("blackheadpore", {})
    out = {"pore_num": float(bp.get("pore_num", 0)), "blackhead_num": float(bp.get("blackhead_num", 0)),
           "brown_patch_share": float(ext.get("color", {}).get("brown_patch_share", 0.0)),
           "redness_spread": float(ext.get("skinquality", {}).get("redness", {}).get("spread", 0.0))}
    items = ext.get("acnespotmole", {}).get("items", [])
    out["acne_expected"] = sum(i["score"] for i in items if i["family"] == "acne")
    out["spots_expected"] = sum(i["score"] for i in items if i["family"] in ("speckle", "acne_mark"))
    out["wrinkle_load_mm_od"] = sum(a * b for a, b in zip(ext.get("wrinkle", {}).get("length_mm", []),
                                                          ext.get("wrinkle", {}).get("depth_od", []), strict=False))
    return out


def evaluate(split: Path, faces: int) -> dict[str, Any]:
    from edge.config import Settings
    from edge.errors import SkinKioskError
    from edge.pipeline import Engine

    engine = Engine(Settings())
    fields = [f for f in CONCERN_FIELDS if f in Engine.available_fields()]

    def analyze(img: np.ndarray) -> dict[str, Any] | None:
        try:
            found = engine.analyze(img, fields, max_faces=1, extended=True)
        except SkinKioskError:
            return None
        return found[0] if found else None

    per_face: list[dict[str, list[float]]] = []  # concern -> [original, variants...]
    raw: list[dict[str, float]] = []
    lost = 0
    t0 = time.monotonic()
    for item in yd.load_split(split):
        if len(per_face) >= faces:
            break
        img = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
        base = analyze(img) if img is not None else None
        if base is None:
            continue
        renders = [base]
        for render in VARIANTS.values():
            face = analyze(render(img))
            if face is None:
                lost += 1
                continue
            renders.append(face)
        scores = [concern_scores(f) for f in renders]
        per_face.append({c: [s[c].score for s in scores if s[c].score is not None] for c in CONCERNS})
        raw.append(raw_measures(base))
    table: dict[str, dict[str, float]] = {}
    for c in CONCERNS:
        variances = [float(np.var(f[c], ddof=1)) for f in per_face if len(f[c]) >= 2]
        changes = [abs(v - f[c][0]) for f in per_face for v in f[c][1:]]
        sem = math.sqrt(float(np.mean(variances))) if variances else 0.0
        table[c] = {"sem": round(sem, 2), "mdc95": round(Z95 * math.sqrt(2) * sem, 1),
                    "p95_abs_change": round(float(np.percentile(changes, 95)), 1) if changes else 0.0,
                    "faces_scored_above_0": sum(1 for f in per_face if f[c] and f[c][0] > 0),
                    "mean_score": round(float(np.mean([f[c][0] for f in per_face if f[c]])), 1)}
    distribution = {k: {q: round(float(np.percentile([r[k] for r in raw], p)), 4)
                        for q, p in (("p50", 50), ("p90", 90), ("p95", 95), ("max", 100))} for k in raw[0]}
    return {
        "made_by": "scripts/concern_repeatability.py",
        "method": "MDC95 = 1.96 * sqrt(2) * SEM, SEM = sqrt(mean within-face variance of the score over the "
                  "original and 7 re-renderings of each face (scripts/eval_repeat.py VARIANTS)); a change within "
                  "MDC95 is 'no real change'. Renderings vary light, JPEG and framing only: a lower bound.",
        "data": f"acne-new v36 {split.name}: {len(per_face)} faces x {1 + len(VARIANTS)} renderings",
        "fields": fields, "variants": list(VARIANTS), "renderings_without_face": lost,
        "definitions_version": DEFINITIONS_VERSION, "date": time.strftime("%Y-%m-%d"),
        "seconds": round(time.monotonic() - t0), "concerns": table, "raw_on_originals": distribution,
    }


def print_report(rep: dict[str, Any]) -> None:
    print(f"# concern_repeatability: {rep['data']} (no face in {rep['renderings_without_face']} renderings)")
    print("| concern | MDC95 | SEM | p95 abs change | mean score | faces > 0 |")
    print("|---|---|---|---|---|---|")
    for c, v in rep["concerns"].items():
        print(f"| {c} | {v['mdc95']} | {v['sem']} | {v['p95_abs_change']} | {v['mean_score']} | "
              f"{v['faces_scored_above_0']} |")
    print("\nraw measurements on the originals (p50 / p90 / p95 / max):")
    for k, v in rep["raw_on_originals"].items():
        print(f"  {k}: {v['p50']} / {v['p90']} / {v['p95']} / {v['max']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("split", type=Path, help="a YOLO split folder with images/ (labels are not used)")
    ap.add_argument("--faces", type=int, default=10_000, help="at most this many faces (default: the whole split)")
    ap.add_argument("--out", type=Path, default=TABLE, help=f"where to write the table (default {TABLE})")
    ap.add_argument("--check", action="store_true", help="compare with the committed table; write nothing")
    args = ap.parse_args(argv)
    if not (args.split / "images").is_dir():
        print(f"concern_repeatability: {args.split}/images not found", file=sys.stderr)
        return 2
    rep = evaluate(args.split, args.faces)
    print_report(rep)
    if args.check:
        old = json.loads(TABLE.read_text())["concerns"]
        off = {c: (old[c]["mdc95"], v["mdc95"]) for c, v in rep["concerns"].items()
               if abs(old.get(c, {}).get("mdc95", -99) - v["mdc95"]) > CHECK_TOLERANCE}
        print("committed table matches" if not off else f"committed table differs (old, new): {off}")
        return 1 if off else 0
    args.out.write_text(json.dumps(rep, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
