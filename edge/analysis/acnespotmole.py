"""`acnespotmole`: acne (whitehead, acne mark, pustule, nodule), speckles (freckle, age spot) and moles,
found by the trained `lesion_centernet` model (edge/analysis/lesion_net.py, scripts/train_lesions.py).

The model was trained on ~2,750 photos people labelled by hand (acne-new v36: acne, pimple, scar, spot,
mole); the peaks of each family's heatmap (acne: whitehead and pimple together; marks; spots; moles) become
findings. An acne peak is a whitehead or a pimple by the model's two probabilities there, the pimple's weighted
by the manifest's `kind_weights` (chosen on valid: pimples are 1 in 6 acne labels, so the plain larger one
would rarely name one). What is left here is the mapping to the seed's fields:

- whitehead -> acne type 0; scar -> acne type 1 (acne mark); pimple -> type 2 (pustule), or type 3
  (nodule) when its box is at least NODULE_MIN_MM across;
- spot -> speckle type 1 (freckle), or type 3 (age spot) when at least AGE_SPOT_MIN_MM across. The labels
  do not separate chloasma or sunburn from other spots, so those types (0, 2) are never reported;
- mole (raised or flat) -> mole.

`score` is the model's peak probability calibrated per family on the valid split (Platt scaling: the
share of such detections that matched a labelled lesion); a finding is reported when its score reaches
its family's operating threshold, chosen on valid for the best F1. Both live in the model's manifest
entry (`operating`), written by the training script with the model, so a retrained model brings its own.
Peaks on the eyes, brows, lips or nostrils are dropped (`lesion_net.allowed`); everything else (hair,
shadows, make-up) the model learned from the labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from edge.analysis import lesion_net as ln
from edge.analysis.base import register
from edge.analysis.lesions import box_to_original, r2

if TYPE_CHECKING:
    from edge.face.context import FaceContext
    from edge.runtime.manifest import ModelStore

ACNE, ACNE_MARK, SPECKLE, MOLE = "acne", "acne_mark", "speckle", "mole"  # operating-point families
WHITEHEAD, MARK, PUSTULE, NODULE = 0, 1, 2, 3  # seed acne types
FRECKLE, AGE_SPOT = 1, 3  # seed speckle types the labels can support
FAMILY_OF_CHANNEL = {ln.WHITEHEAD: ACNE, ln.PIMPLE: ACNE, ln.SCAR: ACNE_MARK, ln.SPOT: SPECKLE, ln.MOLE: MOLE}
LIST_OF_FAMILY = {ACNE: "acne", ACNE_MARK: "acne", SPECKLE: "speckle", MOLE: "mole"}  # seed list prefix

NODULE_MIN_MM = 5.0  # acne grading (papule/pustule < 5 mm, nodule >= 5 mm); the labels say only "pimple"
AGE_SPOT_MIN_MM = 5.0  # freckles (ephelides) are 1-4 mm; larger flat brown spots are lentigines (age spots)
DECODE_MIN_HEAT = 0.05  # raw peaks below this are never reported (under every family's operating point)


@dataclass(frozen=True)
class OperatingPoint:
    threshold: float  # calibrated score at and above which a finding is reported
    platt: tuple[float, float]  # calibrated = sigmoid(a * logit(peak) + b)

    def calibrate(self, peak: float) -> float:
        p = min(max(peak, 1e-4), 1 - 1e-4)
        a, b = self.platt
        return float(1.0 / (1.0 + np.exp(-(a * np.log(p / (1 - p)) + b))))


def operating_points(store: ModelStore) -> dict[str, OperatingPoint]:
    info = store.entry(ln.MODEL_NAME).info.get("operating") or {}
    missing = [f for f in FAMILY_OF_CHANNEL.values() if f not in info]
    if missing:
        from edge.runtime.manifest import ModelError

        raise ModelError(f"manifest entry {ln.MODEL_NAME!r} has no operating point for {missing}")
    return {f: OperatingPoint(float(v["threshold"]), (float(v["platt"][0]), float(v["platt"][1])))
            for f, v in info.items()}


def kind_weights(store: ModelStore) -> np.ndarray:
    """(C,) class weights that name an acne peak's kind (manifest `kind_weights`, chosen on valid by the training
    script for the best balanced whitehead/pimple accuracy); 1 for a class the manifest does not list."""
    given = store.entry(ln.MODEL_NAME).info.get("kind_weights") or {}
    unknown = sorted(set(given) - set(ln.CLASS_NAMES))
    if unknown:
        from edge.runtime.manifest import ModelError

        raise ModelError(f"manifest entry {ln.MODEL_NAME!r}: unknown kind_weights {unknown}")
    return np.array([float(given.get(name, 1.0)) for name in ln.CLASS_NAMES])


@dataclass(frozen=True)
class Finding:
    family: str  # ACNE, ACNE_MARK, SPECKLE or MOLE
    type: int | None  # the seed type (None for moles)
    score: float  # calibrated probability
    box: tuple[float, float, float, float]  # crop px (left, top, right, bottom)
    diameter_mm: float  # the box's mean side

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


def seed_type(channel: int, diameter_mm: float) -> int | None:
    if channel == ln.WHITEHEAD:
        return WHITEHEAD
    if channel == ln.SCAR:
        return MARK
    if channel == ln.PIMPLE:
        return NODULE if diameter_mm >= NODULE_MIN_MM else PUSTULE
    if channel == ln.SPOT:
        return AGE_SPOT if diameter_mm >= AGE_SPOT_MIN_MM else FRECKLE
    return None


def candidates(ctx: FaceContext, store: ModelStore) -> list[Finding]:
    """Every decoded peak of the face with its calibrated score (crop px), before the operating thresholds;
    computed once per face (blackheadpore asks too)."""

    def compute(c: FaceContext) -> list[Finding]:
        model = store.get(ln.MODEL_NAME)

        def run(image: np.ndarray) -> ln.Maps:
            outs = model.run(image[None])
            return outs[ln.HEAT][0], outs[ln.SIZE][0]

        heat, log_size = ln.predict(run, ln.model_input(c))
        ok = ln.allowed(ln.cell_share(c.regions.mask("exclusion")))
        points = operating_points(store)
        scale = c.crop_size / ln.INPUT
        found = []
        for d in ln.decode(heat, log_size, DECODE_MIN_HEAT, ok, kind_weights(store)):
            family = FAMILY_OF_CHANNEL[d.channel]
            box = (d.x0 * scale, d.y0 * scale, d.x1 * scale, d.y1 * scale)
            mm = (box[2] - box[0] + box[3] - box[1]) / 2 * c.mm_per_px
            found.append(Finding(family, seed_type(d.channel, mm), points[family].calibrate(d.score), box, mm))
        return found

    return ctx.cached("acnespotmole:candidates", compute)


def findings(ctx: FaceContext, store: ModelStore, thresholds: dict[str, float] | None = None) -> list[Finding]:
    """The reported findings, strongest first: candidates at or above their family's threshold."""
    if thresholds is None:
        thresholds = {f: p.threshold for f, p in operating_points(store).items()}
    kept = [f for f in candidates(ctx, store) if f.score >= thresholds[f.family]]
    return sorted(kept, key=lambda f: -f.score)


def _item(ctx: FaceContext, finding: Finding) -> dict[str, Any]:
    item: dict[str, Any] = {} if finding.type is None else {"type": finding.type}
    item["score"] = r2(finding.score)
    item.update(box_to_original(ctx, finding.box))
    return item


@register("acnespotmole")
class AcneSpotMole:
    name: ClassVar[str] = "acnespotmole"
    models: ClassVar[tuple[str, ...]] = (ln.MODEL_NAME,)

    def __init__(self, store: ModelStore) -> None:
        self.store = store
        # per family (ACNE, ACNE_MARK, SPECKLE, MOLE); scripts/eval_real.py lowers them for its sweep
        self.thresholds = {f: p.threshold for f, p in operating_points(store).items()}

    def analyze(self, ctx: FaceContext, extended: bool = False) -> dict[str, Any]:
        found = findings(ctx, self.store, self.thresholds)
        field: dict[str, Any] = {}
        for prefix in ("acne", "speckle", "mole"):
            items = [_item(ctx, f) for f in found if LIST_OF_FAMILY[f.family] == prefix]
            field[f"{prefix}_num"] = len(items)
            field[f"{prefix}_list"] = items
        out: dict[str, Any] = {"acnespotmole": field}
        if extended:
            out["extended"] = {"acnespotmole": {
                "items": [{"family": f.family, "type": f.type, "diameter_mm": round(f.diameter_mm, 2),
                           "score": r2(f.score)} for f in found],
                "mm_per_crop_px": round(ctx.mm_per_px, 4),
                "model": ln.MODEL_NAME,
            }}
        return out
