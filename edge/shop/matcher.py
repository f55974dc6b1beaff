"""The matcher: the store's shelf ranked for one person, a routine of at most one product per step, and a
one-line reason for each pick. Pure and deterministic: the same scores and catalogue give the same list.

Eligibility (a product failing one is never proposed; `excluded` says why):
  - contraindications (`not_for`) hold when the person's measurement says so, and also when it was not
    measured (the safe side): sensitive_skin when skin_sensitive_check is "2"; acne_prone_skin when an
    acne finding (whitehead, pimple, nodule) was found today or, with a diary profile open, on any earlier
    visit kept in that diary (the lesion detector finds about one acne lesion in five, so one scan that
    finds none says little; the limit: acne it never caught, and visits of people without a diary, are
    not seen); oily_skin when the skin type is oily or combination (oily zones); dry_skin when the skin
    type is dry;
  - skin_types must include the person's skin type (or be 'all'); an unmeasured type passes;
  - tones must include the person's tone class (or be 'all'); an unmeasured tone passes 'all' only.
Ranking of the eligible products that address at least one concern found (score > 0):
  1. relevance: the person's strongest score among the concerns the product addresses, higher first;
  2. coverage: the sum of the person's scores over those concerns, higher first (addresses more of them);
  3. a product that names the person's skin type before one made for 'all';
  4. price, lower first; 5. id (the catalogue's own key), so the order is total.
Routine: per step (cleanse, treat, moisturise, protect), the best-ranked product of that step. A basic
step (cleanse, moisturise, protect) with no such product takes the eligible product of that step that
names the skin type, then the cheapest, then by id: everyone needs those; a treatment for nothing found
is not proposed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from edge.shop.catalogue import Catalogue, Product, price_text
from edge.shop.concerns import ConcernScore, SkinProfile, shown
from edge.shop.vocabulary import ALL, CONCERN_LABELS, STEPS

BASIC_STEPS = ("cleanse", "moisturise", "protect")
REASON_CONCERNS = 3  # a reason names at most this many concerns (the strongest); one line on a card
OILY_TYPES = ("oily", "combination")  # skin with oily zones: what "not for oily skin" avoids


@dataclass(frozen=True)
class Pick:
    product: Product
    relevance: float
    coverage: float
    names_skin_type: bool
    reason: str
    addressed: tuple[tuple[str, float], ...]  # (concern, the person's score), strongest first

    def as_dict(self, catalogue: Catalogue) -> dict[str, Any]:
        p = self.product
        return {"id": p.id, "name": p.name, "brand": p.brand, "price": p.price,
                "price_text": price_text(p.price, catalogue.currency), "step": p.step,
                "image_url": f"/api/v1/shop/images/{p.id}", "description": p.description,
                "concerns": list(p.concerns), "reason": self.reason, "relevance": self.relevance,
                "addressed": [{"concern": c, "score": s} for c, s in self.addressed]}


@dataclass(frozen=True)
class Excluded:
    product_id: str
    why: str


@dataclass(frozen=True)
class Recommendation:
    ranked: tuple[Pick, ...]
    routine: tuple[Pick, ...]  # STEPS order, at most one per step
    excluded: tuple[Excluded, ...] = field(default=())


def contraindication_holds(name: str, profile: SkinProfile) -> str | None:
    """Why `not_for: name` rules the product out for this person (None: it does not)."""
    if name == "sensitive_skin":
        if profile.sensitivity is None:
            return "not for sensitive skin, and sensitivity was not measured"
        return "not for sensitive skin, and yours reads sensitive" if profile.sensitivity == "2" else None
    if name == "acne_prone_skin":
        if profile.acne_found:
            return "not for acne-prone skin, and acne was found"
        if profile.acne_found_before:
            return "not for acne-prone skin, and acne was found on an earlier visit"
        return "not for acne-prone skin, and acne was not measured" if profile.acne_found is None else None
    if name == "oily_skin":
        if profile.skin_type is None:
            return "not for oily skin, and the skin type was not measured"
        return f"not for oily skin, and yours reads {profile.skin_type}" if profile.skin_type in OILY_TYPES else None
    if name == "dry_skin":
        if profile.skin_type is None:
            return "not for dry skin, and the skin type was not measured"
        return "not for dry skin, and yours reads dry" if profile.skin_type == "dry" else None
    return f"unknown contraindication {name!r}"  # the catalogue validates names: never reached


def ineligible(product: Product, profile: SkinProfile) -> str | None:
    for name in product.not_for:
        why = contraindication_holds(name, profile)
        if why:
            return why
    if profile.skin_type is not None and ALL not in product.skin_types and profile.skin_type not in product.skin_types:
        return f"made for {', '.join(product.skin_types)} skin; yours reads {profile.skin_type}"
    if ALL not in product.tones and (profile.tone is None or profile.tone not in product.tones):
        tone = profile.tone.replace("_", " ") if profile.tone else "not measured"
        return f"made for {', '.join(t.replace('_', ' ') for t in product.tones)} tones; yours: {tone}"
    return None


def _phrase(concern: str, score: float, where: str) -> str:
    return f"{CONCERN_LABELS[concern]} {shown(score)}" + (f" ({where})" if where else "")


def _pick(product: Product, scores: Mapping[str, ConcernScore], profile: SkinProfile) -> Pick:
    addressed = sorted(((c, scores[c].score or 0.0) for c in product.concerns if c in scores
                        and (scores[c].score or 0.0) > 0), key=lambda cs: (-cs[1], cs[0]))
    names_type = profile.skin_type is not None and profile.skin_type in product.skin_types
    suits = f"suits {profile.skin_type} skin" if names_type else ""
    if addressed:
        parts = [_phrase(c, s, scores[c].where) for c, s in addressed[:REASON_CONCERNS]]
        reason = "for: " + ", ".join(parts) + (f" · {suits}" if suits else "")
    else:
        reason = "basic care" + (f", {suits}" if suits else ", for every skin type")
    return Pick(product, addressed[0][1] if addressed else 0.0, round(sum(s for _, s in addressed), 1),
                names_type, reason, tuple(addressed))


def rank_key(pick: Pick) -> tuple[float, float, bool, float, str]:
    return (-pick.relevance, -pick.coverage, not pick.names_skin_type, pick.product.price, pick.product.id)


def recommend(catalogue: Catalogue, scores: Mapping[str, ConcernScore], profile: SkinProfile,
              limit: int | None = None) -> Recommendation:
    """The ranked shelf (products addressing a concern found; the first `limit`), the routine, and the
    products left out with why."""
    eligible: list[Pick] = []
    excluded: list[Excluded] = []
    for product in catalogue.products:
        why = ineligible(product, profile)
        if why:
            excluded.append(Excluded(product.id, why))
        else:
            eligible.append(_pick(product, scores, profile))
    ranked = sorted((p for p in eligible if p.relevance > 0), key=rank_key)
    routine: list[Pick] = []
    for step in STEPS:
        best = next((p for p in ranked if p.product.step == step), None)
        if best is None and step in BASIC_STEPS:
            basics = sorted((p for p in eligible if p.product.step == step),
                            key=lambda p: (not p.names_skin_type, p.product.price, p.product.id))
            best = basics[0] if basics else None
        if best is not None:
            routine.append(best)
    return Recommendation(tuple(ranked[:limit] if limit is not None else ranked), tuple(routine),
                          tuple(sorted(excluded, key=lambda e: e.product_id)))
