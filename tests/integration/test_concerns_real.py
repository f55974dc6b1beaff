"""Acne and spot scores on real faces with known, human-labelled findings (acne-new v36 valid): faces
labelled with many lesions score higher than faces labelled clean. (Planted lesions say nothing about the
trained lesion model: tests/unit/test_acnespotmole.py.) Skips where the data is not beside the clone."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.api.shop_state import load_concern_table
from edge.shop.concerns import concern_scores

ROOT = Path(__file__).resolve().parents[2]
VALID = ROOT.parent / "shared" / "data" / "acne-new-v36" / "valid"
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

MANY = 5  # labelled lesions of the family on a face: a face with "many"
# The mean score of the labelled-many faces must exceed the clean faces' by this (score points). The
# model finds ~1 in 5 labelled lesions (README: acne recall 0.20); measured 2026-12-04 on the full scales
# of scores_version 2: acne 44.1 (47 faces) vs 3.0 (34 clean), spots 50.6 (69) vs 0.4 (34). The floor
# stays where it was set on the earlier, four times wider scales (11.6 vs 0.7): a retrained model and
# re-chosen scales must still keep the many-lesion faces clearly apart.
MIN_GAP = 8.0

pytestmark = pytest.mark.skipif(not VALID.is_dir(), reason=f"labelled data not here ({VALID})")


@pytest.fixture(scope="module")
def groups(engine) -> dict[str, dict[str, list[float]]]:
    import yolo_data as yd

    out: dict[str, dict[str, list[float]]] = {"acne": {"many": [], "clean": []}, "spots": {"many": [], "clean": []}}
    classes = {"acne": (yd.ACNE, yd.PIMPLE), "spots": (yd.SPOT, yd.SCAR)}
    for item in yd.load_split(VALID):
        labels = item.boxes[:, 0].astype(int) if len(item.boxes) else np.zeros(0, int)
        wanted = {c: "clean" if item.clean else "many" if np.isin(labels, classes[c]).sum() >= MANY else None
                  for c in classes}
        if not any(wanted.values()):
            continue
        img = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
        faces = engine.analyze(img, ["acnespotmole"], max_faces=1, extended=True) if img is not None else []
        if not faces:
            continue
        scores = concern_scores(faces[0], load_concern_table().full)
        for concern, group in wanted.items():
            if group:
                out[concern][group].append(scores[concern].score)
    return out


@pytest.mark.parametrize("concern", ["acne", "spots"])
def test_labelled_many_score_higher_than_labelled_clean(groups, concern: str) -> None:
    many, clean = groups[concern]["many"], groups[concern]["clean"]
    assert len(many) >= 10 and len(clean) >= 20, (len(many), len(clean))
    print(f"{concern}: mean score {np.mean(many):.1f} on {len(many)} faces labelled with >= {MANY}, "
          f"{np.mean(clean):.1f} on {len(clean)} clean faces")
    assert np.mean(many) >= np.mean(clean) + MIN_GAP
