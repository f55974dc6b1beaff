"""Concern scores: one 0-100 severity per concern, from the analysis measurements of one face.

Input: a face object of the seed envelope analysed with `extended=true` (the measured values live
there); a concern whose field was not analysed is None ("not measured"), never a guess. Every score is
linear in one measurement, 0 when nothing is found, capped at 100, with no floor and no stretching:

    score = 100 * clamp((m - found) / (full - found), 0, 1)

| concern | m (the measurement) | found | full (reads 100) |
|---|---|---|---|
| acne | expected number of real acne lesions: sum of the calibrated scores of acne findings (whiteheads, pimples, nodules) | 0 | ACNE_FULL |
| spots | the same sum over spots (freckles, age spots) and acne marks | 0 | SPOTS_FULL |
| wrinkles | mean over the ten wrinkle regions of min(100, 100 * sum(length mm x depth OD) / WRINKLE_REGION_FULL) (the vendor tier's wrinkle_score) | - | - |
| pores | enlarged pores counted on the forehead and cheeks | 0 | PORES_FULL |
| blackheads | blackheads counted on and around the nose | 0 | BLACKHEADS_FULL |
| dark_circles | the darker under-eye's mean OD over its cheek, where a dark circle is found | DARK_CIRCLE_MIN_OD | DARK_CIRCLE_FULL_OD |
| eye_bags | the share of the eye's width its bag or trough crease spans (worse eye, where one is found) | 0 | 1 |
| dryness | mean over the five zones of the texture excess of matte zones: (texture - DRY_TEXTURE) / (ROUGH_FULL - DRY_TEXTURE) | - | - |
| oiliness | mean over the five zones of the shine excess: (shine - OILY_SHINE) / (OILY_FULL - OILY_SHINE) | - | - |
| redness | share of cheek and nose skin visibly redder than the forehead and chin | TOLERANT_SPREAD | 1 |
| uneven_tone | share of cheek and forehead skin in brown patches (extended.color.brown_patch_share) | 0 | UNEVEN_FULL |

The lesion sums use only a finding's family, score and size (the lesion model's output shape), so a
retrained model changes the numbers it finds, not these definitions. The full scales come from data
or from the analyzers' own named bands, each said beside it; `tests/unit/test_concerns.py` checks the
copied analyzer thresholds against their source. Moles are counted (`moles_found`) but not scored:
no product addresses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge.shop.skin_type import DRYOIL_ZONES, skin_type
from edge.shop.vocabulary import CONCERN_LABELS, CONCERNS, TONES

# The analysis fields the scores read (all with extended=true); skinface adds nothing to them.
CONCERN_FIELDS = ("color", "acnespotmole", "wrinkle", "eyesattr", "blackheadpore", "skinquality")
# Bump when a definition or a full scale changes: stored scores of another version are not compared.
DEFINITIONS_VERSION = 1

# --- full scales -----------------------------------------------------------------------------------
# Lesion counts: 100 = as many as the most affected 5 % of the 2,755 human-labelled training faces of
# acne-new v36 (p95 of labelled acne + pimple per face: 7; of spot + scar: 10). Labels, not the model,
# so a retrained model is measured against the same scale.
ACNE_FULL = 7.0
SPOTS_FULL = 10.0
WRINKLE_REGION_FULL = 4.0  # mm x OD: ~40 mm of deep lines in one region (edge/formats/ailab_measures.py)
WRINKLE_REGIONS = 10  # the vendor tier's searched regions; perioral counts as its two mouth halves
# Chosen on data: p95 over the 323 faces of acne-new v36 valid (scripts/concern_repeatability.py prints
# the distribution; edge/shop/repeatability.json keeps it under raw_on_originals).
PORES_FULL = 220.0  # enlarged pores (p95 219.5)
# Those photos show almost no blackheads (p95 1, max 24): no data to choose on, so the vendor tier's
# top blackhead band (edge/formats/ailab_measures.BLACKHEAD_BANDS).
BLACKHEADS_FULL = 151.0
DARK_CIRCLE_MIN_OD = 0.06  # eyesattr.DARK_CIRCLE_MIN_OD: from here a dark circle is found
DARK_CIRCLE_FULL_OD = 0.15  # the vendor tier's "severe" dark circle (ailab_measures.DARK_CIRCLE_SEVERITY_OD)
BAG_COLUMNS = 12  # eyesattr.BAG_COLUMNS: the under-eye profile's columns, inner to outer corner
DRY_SHINE = 0.005  # skinquality.DRY_SHINE: below this shine a zone is matte
DRY_TEXTURE = 1.5  # skinquality.DRY_TEXTURE (%): matte and at least this rough reads dry
ROUGH_FULL = 6.0  # texture % read as fully rough: smooth's "rough" boundary (3 %) doubled (ailab ROUGH_FULL_PCT)
OILY_SHINE = 0.05  # skinquality.OILY_SHINE: from this shine share a zone is oily
OILY_FULL = 0.15  # three times that: the zone glistens (ailab_measures.OILY_SEVERE_SHINE)
TOLERANT_SPREAD = 0.10  # skinquality.TOLERANT_SPREAD: less red area is small spots, not a sensitive pattern
UNEVEN_FULL = 0.045  # brown-patch share (p95 on valid, as PORES_FULL)

ZONE_WORDS = {"forehead": "forehead", "nose": "nose", "cheek_left": "left cheek", "cheek_right": "right cheek",
              "chin": "chin", "glabella": "between the brows", "under_eye_left": "under the left eye",
              "under_eye_right": "under the right eye", "crows_feet_left": "crow's feet (left)",
              "crows_feet_right": "crow's feet (right)", "nasolabial_left": "nasolabial (left)",
              "nasolabial_right": "nasolabial (right)", "perioral": "around the mouth"}
ACNE_FAMILY, MARK_FAMILY, SPECKLE_FAMILY, MOLE_FAMILY = "acne", "acne_mark", "speckle", "mole"


@dataclass(frozen=True)
class ConcernScore:
    name: str
    score: float | None  # 0-100, one decimal; None: not measured
    where: str = ""  # "forehead", "T-zone", "left eye"...: where it is worst, for the reasons
    measure: str = ""  # the measurement in words, e.g. "2.4 expected lesions"

    @property
    def label(self) -> str:
        return CONCERN_LABELS[self.name]

    def as_dict(self) -> dict[str, Any]:
        return {"concern": self.name, "label": self.label, "score": self.score, "where": self.where,
                "measure": self.measure}


@dataclass(frozen=True)
class SkinProfile:
    """What the matcher needs besides the scores; None where the field was not analysed."""

    skin_type: str | None  # oily | dry | combination | normal
    sensitivity: str | None  # the seed's skin_sensitive_check: "0" tolerant, "1" neutral, "2" sensitive
    tone: str | None  # vocabulary.TONES, from skin.color (ITA class)
    acne_found: bool | None  # at least one acne finding (whitehead, pimple, nodule)
    moles_found: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"skin_type": self.skin_type, "sensitivity": self.sensitivity, "tone": self.tone,
                "acne_found": self.acne_found, "moles_found": self.moles_found}


def shown(score: float) -> str:
    """A score as people read it: a whole number, halves rounded up (72.5 -> '73')."""
    return str(int(score + 0.5))


def linear(m: float, found: float, full: float) -> float:
    """100 * clamp((m - found) / (full - found), 0, 1), one decimal."""
    return round(100.0 * min(max((m - found) / (full - found), 0.0), 1.0), 1)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _ext(face: Mapping[str, Any], field: str) -> Mapping[str, Any] | None:
    ext = face.get("extended")
    part = ext.get(field) if isinstance(ext, Mapping) else None
    return part if isinstance(part, Mapping) else None


# --- one function per concern ------------------------------------------------------------------------


def _lesion_items(face: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    ext = _ext(face, "acnespotmole")
    items = ext.get("items") if ext is not None else None
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else None


def _expected(items: list[Mapping[str, Any]], families: tuple[str, ...]) -> tuple[float, int]:
    picked = [i for i in items if i.get("family") in families]
    return sum(max(0.0, min(1.0, _num(i.get("score")) or 0.0)) for i in picked), len(picked)


def acne(face: Mapping[str, Any]) -> ConcernScore:
    items = _lesion_items(face)
    if items is None:
        return ConcernScore("acne", None)
    expected, n = _expected(items, (ACNE_FAMILY,))
    return ConcernScore("acne", linear(expected, 0.0, ACNE_FULL), "",
                        f"{n} found ({expected:.1f} expected real)" if n else "none found")


def spots(face: Mapping[str, Any]) -> ConcernScore:
    items = _lesion_items(face)
    if items is None:
        return ConcernScore("spots", None)
    expected, n = _expected(items, (SPECKLE_FAMILY, MARK_FAMILY))
    return ConcernScore("spots", linear(expected, 0.0, SPOTS_FULL), "",
                        f"{n} found ({expected:.1f} expected real)" if n else "none found")


def wrinkles(face: Mapping[str, Any]) -> ConcernScore:
    ext = _ext(face, "wrinkle")
    if ext is None:
        return ConcernScore("wrinkles", None)
    lengths, depths, zones = ext.get("length_mm", []), ext.get("depth_od", []), ext.get("zone", [])
    load: dict[str, float] = {}
    for length, depth, zone in zip(lengths, depths, zones, strict=False):
        if _num(length) is not None and _num(depth) is not None and isinstance(zone, str):
            load[zone] = load.get(zone, 0.0) + float(length) * max(float(depth), 0.0)
    regions: list[float] = []
    for zone, value in load.items():  # perioral is the vendor's two mouth regions: half the load each
        parts = 2 if zone == "perioral" else 1
        regions += [min(100.0, 100.0 * value / parts / WRINKLE_REGION_FULL)] * parts
    score = round(sum(regions) / WRINKLE_REGIONS, 1)
    worst = max(load, key=lambda z: load[z]) if load else ""
    total = sum(float(x) for x in lengths if _num(x) is not None)
    return ConcernScore("wrinkles", score, ZONE_WORDS.get(worst, worst),
                        f"{len(zones)} lines, {total:.0f} mm" if zones else "none found")


def _most(counts: Mapping[str, Any]) -> str:
    valid = {k: float(v) for k, v in counts.items() if _num(v) is not None and float(v) > 0}
    return ZONE_WORDS.get(max(valid, key=lambda k: valid[k]), "") if valid else ""


def pores(face: Mapping[str, Any]) -> ConcernScore:
    bp, ext = face.get("blackheadpore"), _ext(face, "blackheadpore")
    n = _num(bp.get("pore_num")) if isinstance(bp, Mapping) else None
    if n is None:
        return ConcernScore("pores", None)
    counts = ext.get("pore_counts", {}) if ext is not None else {}
    return ConcernScore("pores", linear(n, 0.0, PORES_FULL), _most(counts if isinstance(counts, Mapping) else {}),
                        f"{int(n)} enlarged pores")


def blackheads(face: Mapping[str, Any]) -> ConcernScore:
    bp = face.get("blackheadpore")
    n = _num(bp.get("blackhead_num")) if isinstance(bp, Mapping) else None
    if n is None:
        return ConcernScore("blackheads", None)
    return ConcernScore("blackheads", linear(n, 0.0, BLACKHEADS_FULL), "nose" if n else "", f"{int(n)} blackheads")


def _eye_found(face: Mapping[str, Any], key: str, side: str) -> bool:
    eyes = face.get("eyesattr")
    return isinstance(eyes, Mapping) and bool(eyes.get(f"{key}_{side}_type"))


def _side_word(sides: list[str]) -> str:
    return "both eyes" if len(sides) == 2 else f"{sides[0]} eye" if sides else ""


def dark_circles(face: Mapping[str, Any]) -> ConcernScore:
    ext = _ext(face, "eyesattr")
    if ext is None or not isinstance(face.get("eyesattr"), Mapping):
        return ConcernScore("dark_circles", None)
    od = {s: _num((ext.get(f"dark_circle_{s}") or {}).get("mean_od")) or 0.0 for s in ("left", "right")}
    found = [s for s in ("left", "right") if _eye_found(face, "dark_circle", s)]
    worst = max((od[s] for s in found), default=0.0)
    return ConcernScore("dark_circles", linear(worst, DARK_CIRCLE_MIN_OD, DARK_CIRCLE_FULL_OD) if found else 0.0,
                        _side_word(found), f"{worst:.3f} OD darker than the cheek" if found else "none found")


def eye_bags(face: Mapping[str, Any]) -> ConcernScore:
    ext = _ext(face, "eyesattr")
    if ext is None or not isinstance(face.get("eyesattr"), Mapping):
        return ConcernScore("eye_bags", None)
    found = [s for s in ("left", "right") if _eye_found(face, "eye_bags", s)]
    span = {s: sum(_num((ext.get(f"eye_bags_{s}") or {}).get(k)) or 0.0 for k in ("bag_columns", "trough_columns"))
            for s in ("left", "right")}
    worst = max((span[s] for s in found), default=0.0)
    return ConcernScore("eye_bags", linear(worst, 0.0, BAG_COLUMNS) if found else 0.0, _side_word(found),
                        f"crease over {worst / BAG_COLUMNS:.0%} of the eye's width" if found else "none found")


def _zones(face: Mapping[str, Any]) -> Mapping[str, Any] | None:
    ext = _ext(face, "skinquality")
    zones = ext.get("zones") if ext is not None else None
    return zones if isinstance(zones, Mapping) else None


def _zone_place(zones: list[str]) -> str:
    if {"forehead", "nose"} <= set(zones):
        rest = [z for z in zones if z not in ("forehead", "nose")]
        return ", ".join(["T-zone", *(ZONE_WORDS[z] for z in rest)])
    if {"cheek_left", "cheek_right"} <= set(zones):
        rest = [z for z in zones if z not in ("cheek_left", "cheek_right")]
        return ", ".join(["cheeks", *(ZONE_WORDS[z] for z in rest)])
    return ", ".join(ZONE_WORDS[z] for z in zones)


def dryness(face: Mapping[str, Any]) -> ConcernScore:
    zones = _zones(face)
    if zones is None:
        return ConcernScore("dryness", None)
    parts: dict[str, float] = {}
    for z in DRYOIL_ZONES:
        m = zones.get(z) if isinstance(zones.get(z), Mapping) else {}
        shine, texture = _num(m.get("shine")), _num(m.get("texture_pct"))
        matte = shine is not None and shine < DRY_SHINE
        parts[z] = linear(texture, DRY_TEXTURE, ROUGH_FULL) if matte and texture is not None else 0.0
    dry = [z for z in DRYOIL_ZONES if parts[z] > 0]
    return ConcernScore("dryness", round(sum(parts.values()) / len(DRYOIL_ZONES), 1), _zone_place(dry),
                        f"matte and rough: {len(dry)} of 5 zones" if dry else "no dry zone")


def oiliness(face: Mapping[str, Any]) -> ConcernScore:
    zones = _zones(face)
    if zones is None:
        return ConcernScore("oiliness", None)
    parts: dict[str, float] = {}
    for z in DRYOIL_ZONES:
        m = zones.get(z) if isinstance(zones.get(z), Mapping) else {}
        shine = _num(m.get("shine"))
        parts[z] = linear(shine, OILY_SHINE, OILY_FULL) if shine is not None else 0.0
    oily = [z for z in DRYOIL_ZONES if parts[z] > 0]
    return ConcernScore("oiliness", round(sum(parts.values()) / len(DRYOIL_ZONES), 1), _zone_place(oily),
                        f"shiny: {len(oily)} of 5 zones" if oily else "no oily zone")


def redness(face: Mapping[str, Any]) -> ConcernScore:
    ext = _ext(face, "skinquality")
    red = ext.get("redness") if ext is not None else None
    spread = _num(red.get("spread")) if isinstance(red, Mapping) else None
    if spread is None:
        return ConcernScore("redness", None)
    score = linear(spread, TOLERANT_SPREAD, 1.0)
    return ConcernScore("redness", score, "cheeks and nose" if score > 0 else "",
                        f"{spread:.0%} of cheeks and nose redder")


def uneven_tone(face: Mapping[str, Any]) -> ConcernScore:
    ext = _ext(face, "color")
    share = _num(ext.get("brown_patch_share")) if ext is not None else None
    if share is None:
        return ConcernScore("uneven_tone", None)
    score = linear(share, 0.0, UNEVEN_FULL)
    return ConcernScore("uneven_tone", score, "cheeks and forehead" if score > 0 else "",
                        f"{share:.1%} of cheeks and forehead in brown patches")


SCORERS = {"acne": acne, "spots": spots, "wrinkles": wrinkles, "pores": pores, "blackheads": blackheads,
           "dark_circles": dark_circles, "eye_bags": eye_bags, "dryness": dryness, "oiliness": oiliness,
           "redness": redness, "uneven_tone": uneven_tone}
assert tuple(SCORERS) == CONCERNS


def concern_scores(face: Mapping[str, Any]) -> dict[str, ConcernScore]:
    """Every concern's score for one face (None scores: that field was not analysed with extended)."""
    return {name: scorer(face) for name, scorer in SCORERS.items()}


def plain_scores(scores: Mapping[str, ConcernScore]) -> dict[str, float]:
    """{concern: score} of the measured concerns: what the diary keeps per visit."""
    return {name: s.score for name, s in scores.items() if s.score is not None}


# --- the skin profile --------------------------------------------------------------------------------


def skin_profile(face: Mapping[str, Any]) -> SkinProfile:
    sq, skin, asm = face.get("skinquality"), face.get("skin"), face.get("acnespotmole")
    sq = sq if isinstance(sq, Mapping) else {}
    sens = sq.get("skin_sensitive_check")
    sensitivity = sens[0] if isinstance(sens, list) and sens and sens[0] in ("0", "1", "2") else None
    color = skin.get("color") if isinstance(skin, Mapping) else None
    tone = TONES[color - 1] if isinstance(color, int) and 1 <= color <= len(TONES) else None
    items = _lesion_items(face)
    acne_found = None
    if isinstance(asm, Mapping):
        acne_found = any(i.get("type") != 1 for i in asm.get("acne_list", []) if isinstance(i, Mapping))
    elif items is not None:
        acne_found = any(i.get("family") == ACNE_FAMILY for i in items)
    moles = _num(asm.get("mole_num")) if isinstance(asm, Mapping) else None
    return SkinProfile(skin_type(sq.get("skin_dryoil_check")), sensitivity, tone, acne_found,
                       int(moles) if moles is not None else None)
