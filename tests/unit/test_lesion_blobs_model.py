"""The lesion_blobs int8 model against its float reference on real face crops (Pearson >= 0.99 and
MAE <= 2 % of the reference's range, per output map and channel), and its manifest entry."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from edge.analysis import lesion_blobs as lb
from edge.runtime import sha256_of
from tests.unit.lesion_scenes import ev

MIN_PEARSON, MAX_MAE_OF_RANGE = 0.99, 0.02


@pytest.fixture(scope="module")
def crops(engine, astronaut_bgr):
    photo = ev.photo_scene()
    return {"photo": engine.face_contexts(photo)[0].crop,
            "relit": engine.face_contexts(ev.mirrored_relit(photo))[0].crop,
            "small_face": engine.face_contexts(astronaut_bgr)[0].crop}


@pytest.mark.parametrize("scene", ["photo", "relit", "small_face"])
def test_int8_matches_float_reference(engine, crops, scene) -> None:
    x = lb.model_input(crops[scene])
    outs = engine.store.get(lb.MODEL_NAME).run(x[None])
    ref = lb.lesion_blobs_reference(x)
    assert set(ref) == set(lb.OUTPUTS)
    for name, want in ref.items():
        got = outs[name][0]
        assert got.shape == want.shape, name
        for i in range(want.shape[-1]):
            a, b = got[..., i].ravel(), want[..., i].ravel()
            r = float(np.corrcoef(a, b)[0, 1])
            mae = float(np.abs(a - b).mean()) / float(b.max() - b.min())
            assert r >= MIN_PEARSON, f"{scene} {name}[{lb.CHANNELS[i]}]: pearson {r:.4f}"
            assert mae <= MAX_MAE_OF_RANGE, f"{scene} {name}[{lb.CHANNELS[i]}]: mae {mae:.4f} of range"


def test_manifest_entry(settings) -> None:
    entry = yaml.safe_load(settings.runtime.manifest.read_text())["models"][lb.MODEL_NAME]
    path = settings.runtime.models_dir / entry["file"]
    assert sha256_of(path) == entry["sha256"]
    assert set(entry["outputs"]) == set(lb.OUTPUTS)
    assert entry["license"].startswith("ours") and "swap" in entry and "used_by" in entry
    assert path.stat().st_size < 100_000  # small, committed


def test_blob_response_is_contrast_in_od() -> None:
    """A disc of radius sqrt(2) sigma holding c OD more melanin answers 2c/e at its centre, on the
    melanin channel only (the decomposition separates pigments)."""
    from edge.analysis import reference as ref

    size, c = 128, 0.3
    skin_od = np.array([0.35, 0.6, 0.9])  # RGB OD of a light skin
    yy, xx = np.mgrid[0:size, 0:size]
    disc = (np.hypot(xx - 64, yy - 64) <= np.sqrt(2) * 4.0).astype(float)
    od = skin_od + disc[..., None] * c * np.asarray(ref.MELANIN_OD)
    rgb = np.clip(np.exp(-od) * 255 + 0.5, 0, 255).astype(np.uint8)
    x = lb.model_input(np.ascontiguousarray(rgb[..., ::-1]))
    out = lb.to_od(lb.lesion_blobs_reference(x)["blob_s4"])  # sigma 4 crop px = level 1, sigma 2
    centre = out[32, 32]
    assert centre[1] == pytest.approx(2 * c / np.e, rel=0.15)
    assert abs(centre[2]) < 0.2 * centre[1]  # no hemoglobin response
