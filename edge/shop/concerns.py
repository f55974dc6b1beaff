"""Concern scores: one 0-100 severity per concern, from the analysis measurements of one face.

Input: a face object of the seed envelope analysed with `extended=true` (the measured values live
there); a concern whose field was not analysed is None ("not measured"), never a guess. Each concern has
one measurement, sampled once per face or once per zone/region, and its score is the mean over those
samples of a linear map, 0 when nothing is found, capped at 100, with no floor and no stretching:

    score = mean over the samples m of 100 * clamp((m - found) / (full - found), 0, 1)

| concern | samples per face: m | found |
|---|---|---|
| acne | 1: expected number of real acne lesions, the sum of the calibrated scores of the acne findings (whiteheads, pimples, nodules) | 0 |
| spots | 1: the same sum over spots (freckles, age spots) and acne marks | 0 |
| wrinkles | 10: each wrinkle region's load, sum of length mm x depth OD of its lines (the vendor's ten regions: perioral is the two mouth halves, half its load each) | 0 |
| pores | 1: enlarged pores counted on the forehead and cheeks | 0 |
| blackheads | 1: blackheads counted on and around the nose | 0 |
| dark_circles | 1: the darker under-eye's mean OD over its cheek, of the eyes where a dark circle is found (none: `found`) | DARK_CIRCLE_MIN_OD |
| eye_bags | 1: the columns of the under-eye profile the bag or trough crease spans, worse eye with a finding (none: 0) | 0 |
| dryness | 5: each zone's texture % where the zone is matte (not matte: `found`) | DRY_TEXTURE |
| oiliness | 5: each zone's shine share | OILY_SHINE |
| redness | 1: share of cheek and nose skin visibly redder than the forehead and chin | TOLERANT_SPREAD |
| uneven_tone | 1: share of cheek and forehead skin in brown patches (extended.color.brown_patch_share) | 0 |

`found` is 0 or the analyzer's own threshold (tests/unit/test_concerns.py checks the copies against
their source). `full`, the level that reads 100, is chosen on data for every concern by one rule
(FULL_SCALE_RULE, `full_scale`): scripts/concern_repeatability.py measures the samples on the valid split
of acne-new v36 and writes the scales, with their distributions, into the committed table
edge/shop/concern_table.json; the caller reads that table (edge/shop/table.py parses it) and passes the
scales in. This module reads no file. The lesion sums use only a finding's family and score (the lesion
model's output shape): a retrained model changes what is found, and a re-run of the script its scale.
Moles are counted (`moles_found`) but not scored: no product addresses them.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from edge.shop.skin_type import DRYOIL_ZONES, skin_type
from edge.shop.vocabulary import CONCERN_LABELS, CONCERNS, TONES

# The analysis fields the scores read (all with extended=true); skinface adds nothing to them.
CONCERN_FIELDS = ("color", "acnespotmole", "wrinkle", "eyesattr", "blackheadpore", "skinquality")
# Bump when a definition (what is sampled, or `found`) changes; the table records the version it was made
# for, and the product refuses a table of another version (edge/shop/table.py).
DEFINITIONS_VERSION = 2

# --- where a concern is found (the analyzers' own thresholds) -------------------------------------------
DARK_CIRCLE_MIN_OD = 0.06  # eyesattr.DARK_CIRCLE_MIN_OD: from here a dark circle is found
BAG_COLUMNS = 12  # eyesattr.BAG_COLUMNS: the under-eye profile's columns, inner to outer corner
DRY_SHINE = 0.005  # skinquality.DRY_SHINE: below this shine a zone is matte
DRY_TEXTURE = 1.5  # skinquality.DRY_TEXTURE (%): matte and at least this rough reads dry
OILY_SHINE = 0.05  # skinquality.OILY_SHINE: from this shine share a zone is oily
TOLERANT_SPREAD = 0.10  # skinquality.TOLERANT_SPREAD: less red area is small spots, not a sensitive pattern
FOUND = {"acne": 0.0, "spots": 0.0, "wrinkles": 0.0, "pores": 0.0, "blackheads": 0.0,
         "dark_circles": DARK_CIRCLE_MIN_OD, "eye_bags": 0.0, "dryness": DRY_TEXTURE, "oiliness": OILY_SHINE,
         "redness": TOLERANT_SPREAD, "uneven_tone": 0.0}

# --- the full scales: one rule, applied by scripts/concern_repeatability.py -------------------------------
FULL_SCALE_PERCENTILE = 95.0  # 100 reads "as much as the most affected 5 % of the valid faces where it is found"
# Only samples above `found` count: with every face counted, concerns most faces do not show would get a
# scale of (almost) nothing (28 of the 323 valid faces show any blackhead: one would read 100).
MIN_FOUND_SAMPLES = 20  # fewer found samples and their p95 is the maximum of a handful: no scale is chosen
FULL_SCALE_RULE = (f"full = the p{FULL_SCALE_PERCENTILE:.0f} of the concern's samples that are above `found`, "
                   "over the originals of the valid split (at least "
                   f"{MIN_FOUND_SAMPLES} such samples)")

WRINKLE_ZONES = ("forehead", "glabella", "crows_feet_left", "crows_feet_right", "under_eye_left",
                 "under_eye_right", "nasolabial_left", "nasolabial_right", "perioral")  # wrinkle.ZONE_TYPES
PERIORAL_PARTS = 2  # the vendor's left and right mouth regions: perioral's load is split between them
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
    acne_found: bool | None  # at least one acne finding (whitehead, pimple, nodule) today
    moles_found: int | None
    acne_found_before: bool | None = None  # acne on an earlier diary visit (None: no diary profile open)

    def as_dict(self) -> dict[str, Any]:
        return {"skin_type": self.skin_type, "sensitivity": self.sensitivity, "tone": self.tone,
                "acne_found": self.acne_found, "acne_found_before": self.acne_found_before,
                "moles_found": self.moles_found}


def shown(score: float) -> str:
    """A score as people read it: a whole number, halves rounded up (72.5 -> '73')."""
    return str(int(score + 0.5))


def linear(m: float, found: float, full: float) -> float:
    """100 * clamp((m - found) / (full - found), 0, 1), one decimal."""
    return round(100.0 * _fraction(m, found, full), 1)


def _fraction(m: float, found: float, full: float) -> float:
    return min(max((m - found) / (full - found), 0.0), 1.0)


def score_of(samples: Iterable[float], found: float, full: float) -> float:
    """The score of one concern's samples: the mean of their linear maps, one decimal."""
    values = list(samples)
    return round(100.0 * sum(_fraction(m, found, full) for m in values) / len(values), 1)


def _num(value: Any) -> float | None:
    """A finite number, else None (booleans, strings, NaN and infinities are not measurements)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _ext(face: Mapping[str, Any], field: str) -> Mapping[str, Any] | None:
    ext = face.get("extended")
    part = ext.get(field) if isinstance(ext, Mapping) else None
    return part if isinstance(part, Mapping) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# --- one measurement per concern ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One concern's samples on one face, with where it is worst and the measurement in words."""

    samples: tuple[float, ...]
    where: str
    measure: str


def _lesion_items(face: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    ext = _ext(face, "acnespotmole")
    items = ext.get("items") if ext is not None else None
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else None


def expected_lesions(items: list[Mapping[str, Any]], families: tuple[str, ...]) -> tuple[float, int]:
    """(expected number of real lesions: the sum of the findings' calibrated scores, findings) of `families`."""
    picked = [i for i in items if i.get("family") in families]
    return sum(max(0.0, min(1.0, _num(i.get("score")) or 0.0)) for i in picked), len(picked)


def _lesions(face: Mapping[str, Any], families: tuple[str, ...]) -> Measured | None:
    items = _lesion_items(face)
    if items is None:
        return None
    expected, n = expected_lesions(items, families)
    return Measured((expected,), "", f"{n} found ({expected:.1f} expected real)" if n else "none found")


def _wrinkles(face: Mapping[str, Any]) -> Measured | None:
    ext = _ext(face, "wrinkle")
    if ext is None:
        return None
    lengths, depths, zones = _list(ext.get("length_mm")), _list(ext.get("depth_od")), _list(ext.get("zone"))
    load = dict.fromkeys(WRINKLE_ZONES, 0.0)
    total = 0.0
    for length, depth, zone in zip(lengths, depths, zones, strict=False):
        mm, od = _num(length), _num(depth)
        if mm is not None and od is not None and zone in load:
            load[zone] += mm * max(od, 0.0)
            total += mm
    samples = [v for z, v in load.items() for v in ([v / PERIORAL_PARTS] * PERIORAL_PARTS if z == "perioral" else [v])]
    worst = max(load, key=lambda z: load[z]) if any(load.values()) else ""
    return Measured(tuple(samples), ZONE_WORDS.get(worst, ""),
                    f"{len(zones)} lines, {total:.0f} mm" if zones else "none found")


def _most(counts: Mapping[str, Any]) -> str:
    valid = {k: v for k, v in ((k, _num(v)) for k, v in counts.items()) if v is not None and v > 0}
    return ZONE_WORDS.get(max(valid, key=lambda k: valid[k]), "") if valid else ""


def _pores(face: Mapping[str, Any]) -> Measured | None:
    n = _num(_mapping(face.get("blackheadpore")).get("pore_num"))
    if n is None:
        return None
    counts = _mapping(_mapping(_ext(face, "blackheadpore")).get("pore_counts"))
    return Measured((n,), _most(counts), f"{int(n)} enlarged pores")


def _blackheads(face: Mapping[str, Any]) -> Measured | None:
    n = _num(_mapping(face.get("blackheadpore")).get("blackhead_num"))
    if n is None:
        return None
    return Measured((n,), "nose", f"{int(n)} blackheads")


def _eye_found(face: Mapping[str, Any], key: str, side: str) -> bool:
    return bool(_mapping(face.get("eyesattr")).get(f"{key}_{side}_type"))


def _side_word(sides: list[str]) -> str:
    return "both eyes" if len(sides) == 2 else f"{sides[0]} eye" if sides else ""


def _dark_circles(face: Mapping[str, Any]) -> Measured | None:
    ext = _ext(face, "eyesattr")
    if ext is None or not isinstance(face.get("eyesattr"), Mapping):
        return None
    od = {s: _num(_mapping(ext.get(f"dark_circle_{s}")).get("mean_od")) or 0.0 for s in ("left", "right")}
    found = [s for s in ("left", "right") if _eye_found(face, "dark_circle", s)]
    worst = max((od[s] for s in found), default=DARK_CIRCLE_MIN_OD)
    return Measured((worst,), _side_word(found),
                    f"{worst:.3f} OD darker than the cheek" if found else "none found")


def _eye_bags(face: Mapping[str, Any]) -> Measured | None:
    ext = _ext(face, "eyesattr")
    if ext is None or not isinstance(face.get("eyesattr"), Mapping):
        return None
    found = [s for s in ("left", "right") if _eye_found(face, "eye_bags", s)]
    span = {s: sum(_num(_mapping(ext.get(f"eye_bags_{s}")).get(k)) or 0.0 for k in ("bag_columns", "trough_columns"))
            for s in ("left", "right")}
    worst = max((span[s] for s in found), default=0.0)
    return Measured((worst,), _side_word(found),
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


def _dryness(face: Mapping[str, Any]) -> Measured | None:
    zones = _zones(face)
    if zones is None:
        return None
    samples = []
    for z in DRYOIL_ZONES:
        m = _mapping(zones.get(z))
        shine, texture = _num(m.get("shine")), _num(m.get("texture_pct"))
        matte = shine is not None and shine < DRY_SHINE
        samples.append(texture if matte and texture is not None else DRY_TEXTURE)
    dry = [z for z, t in zip(DRYOIL_ZONES, samples, strict=True) if t > DRY_TEXTURE]
    return Measured(tuple(samples), _zone_place(dry), f"matte and rough: {len(dry)} of 5 zones" if dry else "no dry zone")


def _oiliness(face: Mapping[str, Any]) -> Measured | None:
    zones = _zones(face)
    if zones is None:
        return None
    samples = [_num(_mapping(zones.get(z)).get("shine")) for z in DRYOIL_ZONES]
    shine = tuple(OILY_SHINE if v is None else v for v in samples)
    oily = [z for z, v in zip(DRYOIL_ZONES, shine, strict=True) if v > OILY_SHINE]
    return Measured(shine, _zone_place(oily), f"shiny: {len(oily)} of 5 zones" if oily else "no oily zone")


def _redness(face: Mapping[str, Any]) -> Measured | None:
    spread = _num(_mapping(_mapping(_ext(face, "skinquality")).get("redness")).get("spread"))
    if spread is None:
        return None
    return Measured((spread,), "cheeks and nose", f"{spread:.0%} of cheeks and nose redder")


def _uneven_tone(face: Mapping[str, Any]) -> Measured | None:
    share = _num(_mapping(_ext(face, "color")).get("brown_patch_share"))
    if share is None:
        return None
    return Measured((share,), "cheeks and forehead", f"{share:.1%} of cheeks and forehead in brown patches")


MEASURES: dict[str, Callable[[Mapping[str, Any]], Measured | None]] = {
    "acne": lambda face: _lesions(face, (ACNE_FAMILY,)),
    "spots": lambda face: _lesions(face, (SPECKLE_FAMILY, MARK_FAMILY)),
    "wrinkles": _wrinkles, "pores": _pores, "blackheads": _blackheads, "dark_circles": _dark_circles,
    "eye_bags": _eye_bags, "dryness": _dryness, "oiliness": _oiliness, "redness": _redness,
    "uneven_tone": _uneven_tone}
assert tuple(MEASURES) == tuple(FOUND) == CONCERNS


def measurements(face: Mapping[str, Any]) -> dict[str, tuple[float, ...] | None]:
    """Each concern's samples on this face (None: not analysed): what the full scales are chosen on."""
    out: dict[str, tuple[float, ...] | None] = {}
    for name, measure in MEASURES.items():
        got = measure(face)
        out[name] = None if got is None else got.samples
    return out


def concern_score(name: str, face: Mapping[str, Any], full: float) -> ConcernScore:
    """One concern's score on this face, with `full` its scale from the table."""
    got = MEASURES[name](face)
    if got is None:
        return ConcernScore(name, None)
    score = score_of(got.samples, FOUND[name], full)
    return ConcernScore(name, score, got.where if score > 0 else "", got.measure)


def concern_scores(face: Mapping[str, Any], scales: Mapping[str, float]) -> dict[str, ConcernScore]:
    """Every concern's score for one face (None scores: that field was not analysed with extended);
    `scales`: {concern: full}, the committed table's (edge/shop/table.py)."""
    return {name: concern_score(name, face, scales[name]) for name in CONCERNS}


def plain_scores(scores: Mapping[str, ConcernScore]) -> dict[str, float]:
    """{concern: score} of the measured concerns: what the diary keeps per visit."""
    return {name: s.score for name, s in scores.items() if s.score is not None}


def full_scale(samples: Iterable[float], found: float) -> tuple[float, int] | None:
    """FULL_SCALE_RULE: (the p95 of the samples above `found`, 4 significant digits; how many there are),
    or None when there are fewer than MIN_FOUND_SAMPLES of them."""
    above = sorted(m for m in samples if m > found)
    if len(above) < MIN_FOUND_SAMPLES:
        return None
    cut = statistics.quantiles(above, n=100, method="inclusive")[int(FULL_SCALE_PERCENTILE) - 1]
    return float(f"{cut:.4g}"), len(above)


# --- the skin profile --------------------------------------------------------------------------------


def acne_in_history(visits: Iterable[Mapping[str, float]]) -> bool:
    """Whether acne was found on any of these earlier visits (their stored concern scores): an acne score
    above 0 means at least one acne finding, whatever the scale it was scored on."""
    return any((_num(scores.get("acne")) or 0.0) > 0 for scores in visits)


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
        acne_found = any(i.get("type") != 1 for i in _list(asm.get("acne_list")) if isinstance(i, Mapping))
    elif items is not None:
        acne_found = any(i.get("family") == ACNE_FAMILY for i in items)
    moles = _num(asm.get("mole_num")) if isinstance(asm, Mapping) else None
    return SkinProfile(skin_type(sq.get("skin_dryoil_check")), sensitivity, tone, acne_found,
                       int(moles) if moles is not None else None)
