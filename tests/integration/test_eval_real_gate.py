"""The lesion gate on real, human-labelled faces (issue 11): scripts/eval_real.py on the `valid/` split of
acne-new v36 through `Engine.analyze`, against the acceptance floors. The data is not part of the
project; where `../shared/data/acne-new-v36` is absent (a user's clone) the test skips, saying why."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VALID = ROOT.parent / "shared" / "data" / "acne-new-v36" / "valid"
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

F1_FLOOR = {"acne": 0.40, "speckle": 0.35, "mole": 0.30}  # the acceptance, per family
MAX_FINDINGS_PER_CLEAN_FACE = 1.0
PORTRAIT_MAX_FINDINGS_PER_CLEAN_FACE = 1.5  # the darker-skinned `-is-a-` portraits
PORTRAIT_MAX_F1_GAP = 0.10  # portrait F1 at most this far under the FFHQ group's, per family
MIN_ACNE_TYPE_ACCURACY = 0.6

# Repeatability (scripts/eval_repeat.py, the first REPEAT_FACES labelled faces x 7 re-renderings): the bars
# on the pooled per-face count change. Not reached yet by the shipped model: each is an xfail(strict) with the value
# measured on 2026-12-04, so the test reports it on every run and turns red (XPASS) the day a model reaches it.
REPEAT_FACES = 40
REPEAT_NOT_YET = {
    ("acne", "median"): "acne median count change 0.17 > 0.15",
    ("acne", "p90"): "acne p90 count change 0.67 > 0.35",
    ("speckle", "p90"): "speckle p90 count change 0.50 > 0.35",
    ("mole", "p90"): "mole p90 count change 1.00 > 0.35 (a face's one or two moles come and go)",
}

pytestmark = pytest.mark.skipif(not VALID.is_dir(), reason=f"labelled data not here ({VALID}): the gate runs "
                                "where ../shared/data/acne-new-v36 sits beside the clone (CI)")


@pytest.fixture(scope="module")
def report(engine):
    import eval_real

    rep = eval_real.evaluate(VALID, engine=engine)
    eval_real.print_report(rep)  # the tables land in the test log
    return rep


@pytest.mark.parametrize("family", sorted(F1_FLOOR))
def test_f1_floor(report, family: str) -> None:
    assert report["overall"][family]["f1"] >= F1_FLOOR[family], report["overall"][family]


def test_findings_per_clean_face(report) -> None:
    assert report["overall"]["clean_images"] > 0
    assert report["overall"]["findings_per_clean_image"] <= MAX_FINDINGS_PER_CLEAN_FACE


def test_darker_skinned_portraits_few_findings_on_clean_faces(report) -> None:
    portrait = report["groups"]["portrait"]
    assert portrait["clean_images"] and portrait["findings_per_clean_image"] <= PORTRAIT_MAX_FINDINGS_PER_CLEAN_FACE


def test_darker_skinned_portraits_f1_within_the_gap_of_ffhq(report) -> None:
    portrait, ffhq = report["groups"]["portrait"], report["groups"]["ffhq"]
    for family in F1_FLOOR:
        if portrait[family]["truth"]:
            assert portrait[family]["f1"] >= ffhq[family]["f1"] - PORTRAIT_MAX_F1_GAP, (family, portrait, ffhq)


def test_acne_type_accuracy(report) -> None:
    assert report["overall"]["acne_type"]["accuracy"] >= MIN_ACNE_TYPE_ACCURACY, report["overall"]["acne_type"]


def test_every_photo_has_a_face(report) -> None:
    assert report["overall"]["no_face"] == 0


@pytest.fixture(scope="module")
def repeat_report(engine):
    import eval_repeat

    rep = eval_repeat.evaluate(VALID, faces=REPEAT_FACES, engine=engine)
    eval_repeat.print_report(rep)
    return rep


@pytest.mark.parametrize(("family", "stat"), [
    pytest.param(f, s, marks=pytest.mark.xfail(strict=True, reason=REPEAT_NOT_YET[(f, s)]) if (f, s) in REPEAT_NOT_YET else ())
    for f in sorted(F1_FLOOR) for s in ("median", "p90")])
def test_repeatability(repeat_report, family: str, stat: str) -> None:
    import eval_repeat

    bar = {"median": eval_repeat.MEDIAN_BAR, "p90": eval_repeat.P90_BAR}[stat]
    pooled = repeat_report["pooled"][family]
    assert repeat_report["faces"] >= 30 and pooled["n"] > 0
    assert pooled[stat] <= bar, pooled


def test_repeat_noise_floor_is_reported_beside_the_pooled_figures(repeat_report) -> None:
    """The one-grey-level dither is the detector's noise floor: measured on the same faces, never pooled."""
    for family in F1_FLOOR:
        pooled, floor = repeat_report["pooled"][family], repeat_report["noise_floor"][family]
        assert pooled["n"] == sum(v[family]["n"] for v in repeat_report["per_variant"].values())
        assert floor["n"] > 0 and 0.0 <= floor["changed"] <= 1.0, floor


def test_repeat_absolute_change_covers_the_pooled_faces(repeat_report) -> None:
    for family in F1_FLOOR:
        pooled, absolute = repeat_report["pooled"][family], repeat_report["pooled_absolute"][family]
        assert absolute["n"] == pooled["n"]
        # a face whose count held (relative change 0) moved by no finding at all
        assert absolute["within_one"] >= 1 - pooled["changed"] - 1e-3


def test_repeat_noise_scaling_at_factor_one_is_the_product(engine, repeat_report) -> None:
    """--scale-noise recounts from candidates under the thresholds: at factor 1 it must give the pooled figures the
    product's own findings give; at a quarter of the noise the mole count changes less often."""
    import eval_repeat

    analyzer = engine.analyzer("acnespotmole")
    operating = dict(analyzer.thresholds)
    scaled = eval_repeat.noise_scaling(VALID, [1.0, 0.25], faces=REPEAT_FACES, engine=engine)
    assert analyzer.thresholds == operating  # lowered for the run, put back after
    assert scaled["faces"] == repeat_report["faces"]
    assert scaled["factors"][1.0] == repeat_report["pooled"]
    assert scaled["factors"][0.25]["mole"]["changed"] < repeat_report["pooled"]["mole"]["changed"]
