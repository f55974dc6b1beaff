#!/usr/bin/env python3
"""`acnespotmole` on real, human-labelled photos: any YOLO split (images/, labels/), through `Engine.analyze`.

    .venv/bin/python scripts/eval_real.py ../shared/data/acne-new-v36/valid
    .venv/bin/python scripts/eval_real.py ../shared/data/acne-new-v36/valid --json out.json

Families: acne = acne + pimple, speckle = spot, mole = mole1 + mole2; scars are neither found nor missed
(a finding that matches only a scar box is not counted). A finding matches a truth box when its centre lies
inside the truth box grown by 30 % of its size plus 3 px on each side, or the truth centre lies inside the
finding's box; one-to-one, greedy by centre distance. Prints per family recall, precision and F1 (same
family), recall when any family counts, findings per clean image, the type confusion among matched
acne, all of it per source group (ffhq, portrait = the `-is-a-` portraits, web), and a precision-recall
sweep of each family's threshold. A photo where no face is found counts all its boxes as missed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import yolo_data as yd  # noqa: E402

GROW_FRACTION = 0.30  # the truth box grows by 30 % of its size on each side ...
GROW_PX = 3.0  # ... plus 3 px: the matching rule
SWEEP = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)  # score thresholds of the sweep
LIST_OF_FAMILY = {"acne": "acne_list", "speckle": "speckle_list", "mole": "mole_list"}
ACNE_TYPE_NAMES = {0: "whitehead", 1: "acne_mark", 2: "pustule", 3: "nodule"}
TRUTH_ACNE_TYPE = {yd.ACNE: "whitehead", yd.PIMPLE: "pustule/nodule"}  # the data README's mapping
FOUND_ACNE_TYPE = {0: "whitehead", 1: "mark", 2: "pustule/nodule", 3: "pustule/nodule"}


def match(det: np.ndarray, truth: np.ndarray, margin_px: float = GROW_PX) -> list[tuple[int, int]]:
    """One-to-one (detection index, truth index) pairs; boxes are (N, 4) x0, y0, x1, y1. A pair is possible
    when the detection's centre lies in the truth box grown by GROW_FRACTION of its size + margin_px, or the
    truth's centre lies in the detection box; pairs are taken greedily by centre distance."""
    det, truth = np.asarray(det, float).reshape(-1, 4), np.asarray(truth, float).reshape(-1, 4)
    if not len(det) or not len(truth):
        return []
    dc = (det[:, :2] + det[:, 2:]) / 2
    tc = (truth[:, :2] + truth[:, 2:]) / 2
    tw, th = truth[:, 2] - truth[:, 0], truth[:, 3] - truth[:, 1]
    gx0 = truth[:, 0] - GROW_FRACTION * tw - margin_px
    gx1 = truth[:, 2] + GROW_FRACTION * tw + margin_px
    gy0 = truth[:, 1] - GROW_FRACTION * th - margin_px
    gy1 = truth[:, 3] + GROW_FRACTION * th + margin_px
    in_truth = ((dc[:, None, 0] >= gx0) & (dc[:, None, 0] <= gx1) & (dc[:, None, 1] >= gy0) & (dc[:, None, 1] <= gy1))
    in_det = ((tc[None, :, 0] >= det[:, None, 0]) & (tc[None, :, 0] <= det[:, None, 2])
              & (tc[None, :, 1] >= det[:, None, 1]) & (tc[None, :, 1] <= det[:, None, 3]))
    dist = np.hypot(dc[:, None, 0] - tc[None, :, 0], dc[:, None, 1] - tc[None, :, 1])
    dist = np.where(in_truth | in_det, dist, np.inf)
    pairs, used_d, used_t = [], set(), set()
    for flat in np.argsort(dist, axis=None):
        i, j = np.unravel_index(flat, dist.shape)
        if not np.isfinite(dist[i, j]):
            break
        if i not in used_d and j not in used_t:
            pairs.append((int(i), int(j)))
            used_d.add(i)
            used_t.add(j)
    return pairs


# ------------------------------------------------------------------------------------------------
# per image: findings and their relation to the truth
# ------------------------------------------------------------------------------------------------
def findings_of(face: dict[str, Any]) -> list[dict[str, Any]]:
    """Every reported lesion of one face: family, type, score, box (original px)."""
    field = face.get("acnespotmole", {})
    out = []
    for family, key in LIST_OF_FAMILY.items():
        for item in field.get(key, []):
            out.append({"family": family, "type": item.get("type", -1), "score": float(item["score"]),
                        "box": (item["left"], item["top"], item["right"], item["bottom"])})
    return out


def operating_point_of(finding: dict[str, Any], threshold: dict[str, float]) -> str:
    """The operating point a finding is held to: its family's, or for acne marks (acne type 1) their own when
    one is given."""
    if finding["family"] == "acne" and finding["type"] == 1 and "acne_mark" in threshold:
        return "acne_mark"
    return finding["family"]


def threshold_of(finding: dict[str, Any], threshold: dict[str, float]) -> float:
    """The finding's threshold (at its operating point)."""
    return threshold[operating_point_of(finding, threshold)]


def score_image(found: list[dict[str, Any]], truth: np.ndarray, threshold: dict[str, float]) -> dict[str, Any]:
    """Counts for one image at the given per-family thresholds. truth: (N, 5) class, x0, y0, x1, y1."""
    res: dict[str, Any] = {"tp": {}, "fp": {}, "fn": {}, "n_found": 0, "any_tp": 0, "n_truth": 0, "acne_types": []}
    kept = [f for f in found if f["score"] >= threshold_of(f, threshold)]
    res["n_found"] = len(kept)
    scars = truth[truth[:, 0] == yd.SCAR, 1:]
    counted_truth = truth[truth[:, 0] != yd.SCAR]
    res["n_truth"] = len(counted_truth)
    for family in yd.FAMILIES:
        t = truth[[yd.FAMILY_OF_CLASS[int(c)] == family for c in truth[:, 0]]] if len(truth) else truth
        d = [f for f in kept if f["family"] == family]
        dbox = np.array([f["box"] for f in d]).reshape(-1, 4)
        pairs = match(dbox, t[:, 1:])
        used = {i for i, _ in pairs}
        rest = [i for i in range(len(d)) if i not in used]
        ignored = {rest[i] for i, _ in match(dbox[rest], scars)} if rest and len(scars) else set()
        res["tp"][family] = len(pairs)
        res["fp"][family] = len(rest) - len(ignored)
        res["fn"][family] = len(t) - len(pairs)
        if family == "acne":
            res["acne_types"] += [(TRUTH_ACNE_TYPE[int(t[j, 0])], FOUND_ACNE_TYPE.get(int(d[i]["type"]), "?"))
                                  for i, j in pairs]
    # recall when any family counts: a labelled (non-scar) lesion with any finding at its place
    allbox = np.array([f["box"] for f in kept]).reshape(-1, 4)
    res["any_tp"] = len(match(allbox, counted_truth[:, 1:]))
    return res


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"images": len(rows), "clean_images": sum(r["clean"] for r in rows)}
    for family in yd.FAMILIES:
        tp = sum(r["s"]["tp"][family] for r in rows)
        fp = sum(r["s"]["fp"][family] for r in rows)
        fn = sum(r["s"]["fn"][family] for r in rows)
        rec, prec = tp / max(tp + fn, 1), tp / max(tp + fp, 1)
        f1 = 2 * rec * prec / max(rec + prec, 1e-9)
        out[family] = {"truth": tp + fn, "found": tp + fp, "tp": tp, "recall": round(rec, 3),
                       "precision": round(prec, 3), "f1": round(f1, 3)}
    n_truth = sum(r["s"]["n_truth"] for r in rows)
    out["recall_any_family"] = round(sum(r["s"]["any_tp"] for r in rows) / max(n_truth, 1), 3)
    clean = [r for r in rows if r["clean"]]
    out["findings_per_clean_image"] = round(float(np.mean([r["s"]["n_found"] for r in clean])), 2) if clean else None
    out["findings_per_image"] = round(float(np.mean([r["s"]["n_found"] for r in rows])), 2) if rows else None
    out["truth_per_image"] = round(n_truth / max(len(rows), 1), 2)
    pairs = [p for r in rows for p in r["s"]["acne_types"]]
    conf = Counter(pairs)
    per_type = {}
    for t in sorted({p[0] for p in pairs}):
        n = sum(v for (a, _), v in conf.items() if a == t)
        per_type[t] = {"matched": n, "accuracy": round(conf[(t, t)] / max(n, 1), 3),
                       "as": {b: v for (a, b), v in sorted(conf.items()) if a == t}}
    out["acne_type"] = {"accuracy": round(sum(conf[(t, t)] for t in per_type) / max(len(pairs), 1), 3),
                        "per_type": per_type}
    out["no_face"] = sum(r["no_face"] for r in rows)
    return out


def evaluate(split: Path, engine=None, limit: int = 0) -> dict[str, Any]:
    """Run the analyzer on every labelled image of the split; the summary at the operating thresholds,
    per source group, and the sweep."""
    from edge.config import Settings
    from edge.errors import SkinKioskError
    from edge.pipeline import Engine
    from edge.request import decode_image

    engine = engine or Engine(Settings())
    analyzer = engine.analyzer("acnespotmole")
    operating = dict(analyzer.thresholds)
    # report everything the sweep and the operating points need
    analyzer.thresholds = dict.fromkeys(operating, min(min(SWEEP), *operating.values()))
    items = yd.load_split(split)
    if limit:
        items = items[:limit]
    raw = []
    try:
        for item in items:
            decoded = decode_image(item.path.read_bytes())
            truth = item.boxes_px(decoded.original_width, decoded.original_height)
            try:
                faces = engine.analyze(decoded.image, ["acnespotmole"], max_faces=1, to_original=decoded.to_original)
                found, no_face = findings_of(faces[0]), False
            except SkinKioskError:
                found, no_face = [], True
            raw.append({"name": item.name, "group": item.group, "clean": item.clean, "truth": truth,
                        "found": found, "no_face": no_face})
    finally:
        analyzer.thresholds = operating

    def rows_at(threshold: dict[str, float], subset) -> list[dict[str, Any]]:
        return [dict(r, s=score_image(r["found"], r["truth"], threshold)) for r in subset]

    report: dict[str, Any] = {"split": str(split), "thresholds": operating,
                              "overall": summarise(rows_at(operating, raw)), "groups": {}}
    for group in yd.GROUPS:
        subset = [r for r in raw if r["group"] == group]
        if subset:
            report["groups"][group] = summarise(rows_at(operating, subset))
    sweep = []
    for thr in SWEEP:
        s = summarise(rows_at(dict.fromkeys(yd.FAMILIES, thr), raw))
        sweep.append({"threshold": thr, **{f: {k: s[f][k] for k in ("recall", "precision", "f1")} for f in yd.FAMILIES},
                      "findings_per_clean_image": s["findings_per_clean_image"]})
    report["sweep"] = sweep
    return report


# ------------------------------------------------------------------------------------------------
# printing
# ------------------------------------------------------------------------------------------------
def print_report(rep: dict[str, Any]) -> None:
    print(f"# eval_real: {rep['split']}")
    print("operating thresholds:", ", ".join(f"{k} {v:.2f}" for k, v in rep["thresholds"].items()))
    print()
    print("| set | images | clean | family | truth | found | recall | precision | F1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    sets = [("all", rep["overall"])] + list(rep["groups"].items())
    for name, s in sets:
        for family in yd.FAMILIES:
            f = s[family]
            print(f"| {name} | {s['images']} | {s['clean_images']} | {family} | {f['truth']} | {f['found']} | "
                  f"{f['recall']:.3f} | {f['precision']:.3f} | {f['f1']:.3f} |")
    print()
    print("| set | recall (any family) | findings / clean image | findings / image | labelled / image | no face |")
    print("|---|---|---|---|---|---|")
    for name, s in sets:
        print(f"| {name} | {s['recall_any_family']:.3f} | {s['findings_per_clean_image']} | "
              f"{s['findings_per_image']} | {s['truth_per_image']} | {s['no_face']} |")
    print()
    print("acne type among matched acne (truth -> found):")
    for name, s in sets:
        at = s["acne_type"]
        parts = [f"{t} {v['accuracy']:.2f} of {v['matched']} {v['as']}" for t, v in at["per_type"].items()]
        print(f"  {name}: accuracy {at['accuracy']:.3f}; " + "; ".join(parts))
    print()
    print("sweep (same threshold for every family): recall / precision / F1, findings per clean image")
    print("| threshold | acne | speckle | mole | clean |")
    print("|---|---|---|---|---|")
    for row in rep["sweep"]:
        cells = [f"{row[f]['recall']:.2f} / {row[f]['precision']:.2f} / {row[f]['f1']:.3f}" for f in yd.FAMILIES]
        print(f"| {row['threshold']:.2f} | " + " | ".join(cells) + f" | {row['findings_per_clean_image']} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("split", type=Path, help="a YOLO split folder with images/ and labels/")
    ap.add_argument("--json", type=Path, help="also write the report as JSON")
    ap.add_argument("--limit", type=int, default=0, help="only the first N images (a quick look)")
    args = ap.parse_args(argv)
    rep = evaluate(args.split, limit=args.limit)
    print_report(rep)
    if args.json:
        args.json.write_text(json.dumps(rep, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
