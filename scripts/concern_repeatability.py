#!/usr/bin/env python3
"""The concern table the product reads (edge/shop/concern_table.json): every concern's full scale, chosen on
real faces by one rule, and its minimal detectable change, measured on those faces re-rendered as a kiosk
varies them. One command rewrites the committed table:

    .venv/bin/python scripts/concern_repeatability.py            # ../shared/data/acne-new-v36/valid, ~10-25 min
    .venv/bin/python scripts/concern_repeatability.py --check    # a fresh run against the committed table

Re-run it whenever what the scores read changes: a retrained lesion model (acne and spot expected counts
change with its recall and calibration), a changed analyzer threshold, or new definitions in
edge/shop/concerns.py (bump DEFINITIONS_VERSION there first). It bumps the table's `scores_version` when a
full scale changes, so diary visits scored on the old scales are not compared with new ones. Then copy
the two printed tables into README "Concern scores". Without the split (not beside the clone) it says so
and leaves the table as it is.

Each face (the first N photos of the split, by name, where a face is found) is analysed as it is and in the
seven renderings of scripts/eval_repeat.py (exposure -+10 %, white balance -+8 %, JPEG q70, 4 px shift,
3 degree rotation; imported from there, not copied), with the fields the concern scores use and `extended`.

Full scales (edge/shop/concerns.py FULL_SCALE_RULE): each concern's samples (`concerns.measurements`, the
very values the scores are computed from) on the originals; full = the p95 of the samples above where the
concern is found. The raw distribution of every measurement (p50 / p90 / p95 / max over all samples, and
over the found ones) is printed and kept in the table.

Repeatability, with those scales, per concern:

  SEM   = sqrt(mean over faces of the variance of its score across the face's 8 renderings)
  MDC95 = 1.96 * sqrt(2) * SEM   (Weir 2005: the smallest change between two visits that is larger than
          measurement noise with 95 % confidence; the standard choice, and it uses every rendering)

also reported: p95 of |variant - original|. The renderings vary light, compression and framing, not the
skin or the day: real visits differ more (pose, make-up, season), so these MDCs are lower bounds.
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

from edge.shop.concerns import (  # noqa: E402
    CONCERN_FIELDS,
    DEFINITIONS_VERSION,
    FOUND,
    FULL_SCALE_RULE,
    full_scale,
    measurements,
    score_of,
)
from edge.shop.table import TABLE_NAME, parse_table  # noqa: E402
from edge.shop.vocabulary import CONCERNS  # noqa: E402

TABLE = ROOT / "edge" / "shop" / TABLE_NAME
DEFAULT_SPLIT = ROOT.parent / "shared" / "data" / "acne-new-v36" / "valid"
Z95 = 1.96
CHECK_TOLERANCE = 1.0  # score points: a re-run on another machine may differ by float noise only
PROGRESS_EVERY = 25  # faces between progress lines on stderr
MEASURE_WORDS = {
    "acne": "expected real acne lesions per face",
    "spots": "expected real spots and acne marks per face",
    "wrinkles": "wrinkle load (mm x OD) per wrinkle region, ten per face",
    "pores": "enlarged pores per face",
    "blackheads": "blackheads per face",
    "dark_circles": "mean OD of the darker found under-eye over its cheek",
    "eye_bags": "under-eye profile columns spanned by the crease, worse eye (of 12)",
    "dryness": "texture % of each matte zone, five zones per face",
    "oiliness": "shine share of each zone, five zones per face",
    "redness": "share of cheek and nose skin redder than forehead and chin",
    "uneven_tone": "share of cheek and forehead skin in brown patches",
}
assert tuple(MEASURE_WORDS) == CONCERNS


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p90": 0.0, "p95": 0.0, "max": 0.0}
    return {q: float(f"{np.percentile(values, p):.4g}") for q, p in (("p50", 50), ("p90", 90), ("p95", 95), ("max", 100))}


def choose_scales(originals: list[dict[str, tuple[float, ...] | None]]) -> tuple[dict[str, Any], list[str]]:
    """({concern: full scale entry}, concerns with too few found samples) from the originals' samples."""
    entries: dict[str, Any] = {}
    missing: list[str] = []
    for c in CONCERNS:
        samples = [m for face in originals if face[c] is not None for m in face[c]]  # type: ignore[union-attr]
        chosen = full_scale(samples, FOUND[c])
        found = [m for m in samples if m > FOUND[c]]
        if chosen is None:
            missing.append(c)
        entries[c] = {"full": chosen[0] if chosen else None, "found": FOUND[c], "measure": MEASURE_WORDS[c],
                      "samples": len(samples), "found_samples": len(found),
                      "all": _quantiles(samples), "above_found": _quantiles(found)}
    return entries, missing


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

    per_face: list[list[dict[str, tuple[float, ...] | None]]] = []  # [original, variants...] of samples
    lost = 0
    t0 = time.monotonic()
    for item in yd.load_split(split):
        if len(per_face) >= faces:
            break
        img = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
        base = analyze(img) if img is not None else None
        if base is None:
            continue
        renders = [measurements(base)]
        for render in VARIANTS.values():
            face = analyze(render(img))
            if face is None:
                lost += 1
                continue
            renders.append(measurements(face))
        per_face.append(renders)
        if len(per_face) % PROGRESS_EVERY == 0:
            print(f"  {len(per_face)} faces, {time.monotonic() - t0:.0f} s", file=sys.stderr)
    scales, missing = choose_scales([r[0] for r in per_face])
    if missing:
        raise SystemExit(f"concern_repeatability: fewer than the rule's found samples for {', '.join(missing)}: "
                         "no full scale can be chosen on this data; the table is not written")
    full = {c: scales[c]["full"] for c in CONCERNS}
    table: dict[str, dict[str, float]] = {}
    for c in CONCERNS:
        per = [[score_of(r[c], FOUND[c], full[c]) for r in renders if r[c] is not None] for renders in per_face]
        variances = [float(np.var(s, ddof=1)) for s in per if len(s) >= 2]
        changes = [abs(v - s[0]) for s in per for v in s[1:]]
        sem = math.sqrt(float(np.mean(variances))) if variances else 0.0
        table[c] = {"sem": round(sem, 2), "mdc95": round(Z95 * math.sqrt(2) * sem, 1),
                    "p95_abs_change": round(float(np.percentile(changes, 95)), 1) if changes else 0.0,
                    "faces_scored_above_0": sum(1 for s in per if s and s[0] > 0),
                    "mean_score": round(float(np.mean([s[0] for s in per if s])), 1)}
    return {
        "made_by": "scripts/concern_repeatability.py",
        "command": ".venv/bin/python scripts/concern_repeatability.py",
        "data": f"acne-new v36 {split.name}: {len(per_face)} faces x {1 + len(VARIANTS)} renderings",
        "fields": fields, "variants": list(VARIANTS), "renderings_without_face": lost,
        "definitions_version": DEFINITIONS_VERSION, "date": time.strftime("%Y-%m-%d"),
        "seconds": round(time.monotonic() - t0),
        "full_scale_rule": FULL_SCALE_RULE + " (edge/shop/concerns.py)",
        "full_scales": scales,
        "method": "MDC95 = 1.96 * sqrt(2) * SEM, SEM = sqrt(mean within-face variance of the score over the "
                  "original and 7 re-renderings of each face (scripts/eval_repeat.py VARIANTS)); a change within "
                  "MDC95 is 'no real change'. Renderings vary light, JPEG and framing only: a lower bound.",
        "concerns": table,
    }


def scores_version(rep: dict[str, Any], old: dict[str, Any] | None) -> int:
    """The old table's version when the definitions and every full scale are unchanged, else the next one
    (a table before `scores_version` existed counts as its definitions_version, what visits stored then)."""
    if old is None:
        return 1
    before = int(old.get("scores_version", old.get("definitions_version", 0)))
    same = old.get("definitions_version") == rep["definitions_version"] and all(
        (old.get("full_scales", {}).get(c) or {}).get("full") == rep["full_scales"][c]["full"] for c in CONCERNS)
    return before if same else before + 1


def print_report(rep: dict[str, Any]) -> None:
    print(f"# concern_repeatability: {rep['data']} (no face in {rep['renderings_without_face']} renderings)")
    print(f"\nfull scales: {rep['full_scale_rule']}")
    print("| concern | measurement | found | full (reads 100) | found samples | all: p50 / p90 / p95 / max | "
          "above found: p50 / p90 / p95 |")
    print("|---|---|---|---|---|---|---|")
    for c, v in rep["full_scales"].items():
        a, f = v["all"], v["above_found"]
        print(f"| {c} | {v['measure']} | {v['found']:g} | {v['full']:g} | {v['found_samples']} of {v['samples']} | "
              f"{a['p50']:g} / {a['p90']:g} / {a['p95']:g} / {a['max']:g} | {f['p50']:g} / {f['p90']:g} / {f['p95']:g} |")
    print("\n| concern | MDC95 (score points) | SEM | p95 of \\|change\\| across renderings | mean score | faces > 0 |")
    print("|---|---|---|---|---|---|")
    for c, v in rep["concerns"].items():
        print(f"| {c} | {v['mdc95']} | {v['sem']} | {v['p95_abs_change']} | {v['mean_score']} | "
              f"{v['faces_scored_above_0']} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("split", type=Path, nargs="?", default=None,
                    help=f"a YOLO split folder with images/ (labels are not used; default {DEFAULT_SPLIT})")
    ap.add_argument("--faces", type=int, default=10_000, help="at most this many faces (default: the whole split)")
    ap.add_argument("--out", type=Path, default=TABLE, help=f"where to write the table (default {TABLE})")
    ap.add_argument("--check", action="store_true", help="compare with the committed table; write nothing")
    args = ap.parse_args(argv)
    split = args.split or DEFAULT_SPLIT
    if not (split / "images").is_dir():
        if args.split is None:  # the data is not beside this clone: nothing to measure, nothing changed
            print(f"concern_repeatability: skipped, no split at {split}; {TABLE} is unchanged")
            return 0
        print(f"concern_repeatability: {split}/images not found", file=sys.stderr)
        return 2
    rep = evaluate(split, args.faces)
    old = json.loads(args.out.read_text()) if args.out.exists() else None
    rep = {**rep, "scores_version": scores_version(rep, old)}
    parse_table(rep)  # what the product will read must load
    print_report(rep)
    if args.check:
        committed = json.loads(TABLE.read_text())
        off = {c: (committed["concerns"][c]["mdc95"], v["mdc95"]) for c, v in rep["concerns"].items()
               if abs(committed["concerns"].get(c, {}).get("mdc95", -99) - v["mdc95"]) > CHECK_TOLERANCE}
        off.update({f"{c} full": (committed["full_scales"].get(c, {}).get("full"), v["full"])
                    for c, v in rep["full_scales"].items() if committed["full_scales"].get(c, {}).get("full") != v["full"]})
        print("committed table matches" if not off else f"committed table differs (old, new): {off}")
        return 1 if off else 0
    args.out.write_text(json.dumps(rep, indent=1) + "\n")
    print(f"wrote {args.out} (scores_version {rep['scores_version']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
