"""The matcher on truth-known concern scores: ranking and its tie-breaks, the contraindication rule (also
when a measurement is missing), skin type and tone fit, the one-per-step routine and the reasons; and the
change-since-last-visit verdicts against the measured repeatability."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.api.shop_state import load_concern_table
from edge.config import REPO_ROOT
from edge.shop.catalogue import Catalogue, Product, load_catalogue
from edge.shop.change import BETTER, NO_REAL_CHANGE, NOT_COMPARABLE, WORSE, changes
from edge.shop.concerns import ConcernScore, SkinProfile, acne_in_history
from edge.shop.matcher import recommend
from edge.shop.vocabulary import CONCERNS, STEPS

NEUTRAL = SkinProfile(skin_type="normal", sensitivity="1", tone="light", acne_found=False, moles_found=0)


def scores(**given: float) -> dict[str, ConcernScore]:
    where = {"pores": "forehead", "oiliness": "T-zone"}
    return {c: ConcernScore(c, given.get(c, 0.0), where.get(c, "") if given.get(c) else "") for c in CONCERNS}


def product(pid: str, concerns: tuple[str, ...], step: str = "treat", price: float = 10.0,
            skin_types: tuple[str, ...] = ("all",), not_for: tuple[str, ...] = (),
            tones: tuple[str, ...] = ("all",)) -> Product:
    return Product(id=pid, name=pid, brand="B", price=price, image="x.png", concerns=concerns,
                   skin_types=skin_types, not_for=not_for, step=step, tones=tones)


def shelf(*products: Product) -> Catalogue:
    return Catalogue(tuple(products), Path("/tmp"), "EUR", "test", "0")


def test_ranks_by_the_strongest_concern_then_coverage_then_price_then_id():
    cat = shelf(product("WRINKLE", ("wrinkles",)), product("PORES", ("pores",)),
                product("PORES_OIL", ("pores", "oiliness")), product("PORES_CHEAP", ("pores",), price=5.0),
                product("A_PORES_CHEAP", ("pores",), price=5.0), product("NOTHING", ("acne",)))
    rec = recommend(cat, scores(pores=72, oiliness=40, wrinkles=30), NEUTRAL)
    assert [p.product.id for p in rec.ranked] == ["PORES_OIL", "A_PORES_CHEAP", "PORES_CHEAP", "PORES", "WRINKLE"]
    assert rec.ranked[0].reason == "for: pores 72 (forehead), oiliness 40 (T-zone)"
    assert "NOTHING" not in [p.product.id for p in rec.ranked]  # acne 0: nothing to treat


def test_the_same_input_gives_the_same_answer():
    cat = load_catalogue(REPO_ROOT / "catalogue" / "catalogue.yaml", currency="EUR")
    s = scores(pores=50, acne=20, dryness=20, redness=10)
    first = recommend(cat, s, NEUTRAL)
    reordered = Catalogue(tuple(reversed(cat.products)), cat.folder, "EUR", "r", "r")
    assert [p.product.id for p in recommend(reordered, s, NEUTRAL).ranked] == [p.product.id for p in first.ranked]


@pytest.mark.parametrize("sensitivity,proposed", [("2", False), (None, False), ("1", True), ("0", True)])
def test_never_a_product_not_for_sensitive_skin_when_sensitive_or_unmeasured(sensitivity, proposed):
    cat = shelf(product("ACID", ("pores",), not_for=("sensitive_skin",)), product("MILD", ("pores",), price=99))
    profile = SkinProfile("normal", sensitivity, "light", False, 0)
    rec = recommend(cat, scores(pores=80), profile)
    ids = [p.product.id for p in rec.ranked] + [p.product.id for p in rec.routine]
    assert ("ACID" in ids) is proposed
    if not proposed:
        assert [e.product_id for e in rec.excluded] == ["ACID"]
        assert "sensitive" in rec.excluded[0].why


def test_demo_catalogue_with_sensitive_skin_proposes_nothing_marked_not_for_it():
    cat = load_catalogue(REPO_ROOT / "catalogue" / "catalogue.yaml", currency="EUR")
    sensitive = SkinProfile("oily", "2", "tan", True, 0)
    rec = recommend(cat, scores(**{c: 60.0 for c in CONCERNS}), sensitive)
    proposed = [p.product for p in (*rec.ranked, *rec.routine)]
    assert proposed and not [p.id for p in proposed if {"sensitive_skin", "acne_prone_skin", "oily_skin"} & set(p.not_for)]


def test_acne_oily_and_dry_contraindications():
    cat = shelf(product("BALM", ("dryness",), not_for=("acne_prone_skin",)),
                product("RICH", ("dryness",), not_for=("oily_skin",)), product("CLAY", ("dryness",), not_for=("dry_skin",)))
    s = scores(dryness=50)
    ids = lambda profile: {p.product.id for p in recommend(cat, s, profile).ranked}  # noqa: E731
    assert ids(SkinProfile("normal", "1", "light", True, 0)) == {"RICH", "CLAY"}
    assert ids(SkinProfile("combination", "1", "light", False, 0)) == {"BALM", "CLAY"}
    assert ids(SkinProfile("dry", "1", "light", False, 0)) == {"BALM", "RICH"}
    assert ids(SkinProfile(None, "1", "light", None, 0)) == set()  # nothing measured: the safe side


@pytest.mark.parametrize("today,before,excluded,why", [
    (False, None, False, None),  # no diary open: only today's scan counts
    (False, False, False, None),  # a diary whose visits never found acne
    (False, True, True, "not for acne-prone skin, and acne was found on an earlier visit"),
    (True, False, True, "not for acne-prone skin, and acne was found"),
    (None, True, True, "not for acne-prone skin, and acne was found on an earlier visit"),
])
def test_acne_on_an_earlier_diary_visit_makes_the_skin_acne_prone(today, before, excluded, why):
    """The lesion detector misses most acne (recall ~0.2), so with a diary open the acne found on any earlier
    visit counts too."""
    cat = shelf(product("BALM", ("dryness",), not_for=("acne_prone_skin",)), product("MILD", ("dryness",)))
    profile = SkinProfile("normal", "1", "light", today, 0, acne_found_before=before)
    rec = recommend(cat, scores(dryness=50), profile)
    assert ("BALM" not in {p.product.id for p in rec.ranked}) is excluded
    assert [e.why for e in rec.excluded] == ([why] if excluded else [])


def test_acne_in_history_reads_the_stored_acne_scores():
    assert not acne_in_history([])
    assert not acne_in_history([{"acne": 0.0, "pores": 40.0}, {"pores": 10.0}])  # no acne score: not measured
    assert acne_in_history([{"acne": 0.0}, {"acne": 3.2}])


def test_skin_type_and_tone_fit():
    cat = shelf(product("OILY_ONLY", ("pores",), skin_types=("oily",)), product("ALL", ("pores",), price=50),
                product("DEEP_TINT", ("uneven_tone",), step="protect", tones=("brown", "dark")),
                product("NAMES_NORMAL", ("pores",), price=50, skin_types=("normal", "dry")))
    rec = recommend(cat, scores(pores=40, uneven_tone=30), NEUTRAL)
    assert [p.product.id for p in rec.ranked] == ["NAMES_NORMAL", "ALL"]  # naming the type wins the tie
    assert rec.ranked[0].reason.endswith("· suits normal skin")
    why = {e.product_id: e.why for e in rec.excluded}
    assert why["OILY_ONLY"] == "made for oily skin; yours reads normal"
    assert why["DEEP_TINT"] == "made for brown, dark tones; yours: light"


def test_routine_has_at_most_one_product_per_step_in_order():
    cat = load_catalogue(REPO_ROOT / "catalogue" / "catalogue.yaml", currency="EUR")
    rec = recommend(cat, scores(pores=70, oiliness=40, blackheads=20, wrinkles=10), NEUTRAL)
    steps = [p.product.step for p in rec.routine]
    assert steps == [s for s in STEPS if s in steps] and len(set(steps)) == len(steps)
    assert "treat" in steps
    ranked_ids = [p.product.id for p in rec.ranked]
    for pick in rec.routine:  # each step's pick is that step's best-ranked product
        same_step = [i for i in ranked_ids if cat.by_id(i).step == pick.product.step]
        assert pick.product.id == same_step[0]


def test_nothing_found_gives_basic_care_and_no_treatment():
    cat = shelf(product("CLEAN_ALL", ("acne",), step="cleanse", price=5),
                product("CLEAN_NORMAL", ("acne",), step="cleanse", price=9, skin_types=("normal",)),
                product("SERUM", ("wrinkles",)), product("SPF", ("spots",), step="protect"))
    rec = recommend(cat, scores(), NEUTRAL)
    assert rec.ranked == ()
    assert [p.product.id for p in rec.routine] == ["CLEAN_NORMAL", "SPF"]
    assert rec.routine[0].reason == "basic care, suits normal skin"


def test_change_within_repeatability_is_no_real_change_and_a_planted_increase_is_worse():
    mdc = load_concern_table().mdc
    assert set(mdc) == set(CONCERNS) and all(v >= 0 for v in mdc.values())
    before = {c: 30.0 for c in CONCERNS}
    within = {c: 30.0 + mdc[c] for c in CONCERNS}  # exactly at the MDC: still noise
    assert {ch.verdict for ch in changes(before, within, mdc)} == {NO_REAL_CHANGE}
    planted = dict(before, pores=30.0 + mdc["pores"] + 12.0, acne=30.0 - mdc["acne"] - 5.0)
    got = {ch.concern: ch for ch in changes(before, planted, mdc)}
    assert got["pores"].verdict == WORSE and got["pores"].delta == round(mdc["pores"] + 12.0, 1)
    assert got["pores"].text.startswith(f"worse by {int(mdc['pores'] + 12.0 + 0.5)} (30 → ")
    assert got["acne"].verdict == BETTER
    assert got["wrinkles"].verdict == NO_REAL_CHANGE
    assert changes({"acne": 1.0}, {}, mdc)[0].verdict == NOT_COMPARABLE
