"""Our designed int8 models against their float references, on a real face crop.

For every designed model (edge/analysis/reference.py REFERENCES) and every output map (each channel of
a multi-channel map): Pearson r >= 0.99 and mean absolute error <= 2 % of the reference map's range,
so quantization is measured, not assumed. Also: every model of ours in the manifest is committed, has
its recorded hash and a reference (unless marked `learned: true`), and declares the outputs it has.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import edge.analysis  # noqa: F401  (registers every analyzer, and any reference they add)
from edge.analysis import reference as ref
from edge.runtime import ModelStore, load_manifest, sha256_of

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "models" / "manifest.yaml"
MIN_PEARSON = 0.99
MAX_MAE_OF_RANGE = 0.02


def _ours() -> dict:
    return {n: e for n, e in load_manifest(MANIFEST).items() if not e.info.get("fetched")}


@pytest.fixture(scope="module")
def store() -> ModelStore:
    s = ModelStore(ROOT / "models", MANIFEST, num_threads=1)
    yield s
    s.close()


@pytest.fixture(scope="module")
def face_crop(engine, astronaut_bgr) -> np.ndarray:
    contexts = engine.face_contexts(astronaut_bgr, max_faces=1)
    assert contexts, "the test photo must have a face"
    return contexts[0].crop


def test_our_models_are_committed_with_their_hash():
    ours = _ours()
    assert {"skin_pigment", "skin_texture"} <= set(ours)
    for name, entry in ours.items():
        path = ROOT / "models" / entry.file
        assert path.exists(), f"{name}: {entry.file} is not in models/"
        assert sha256_of(path) == entry.sha256, f"{name}: sha256 differs from the manifest"
        assert entry.info.get("license"), f"{name}: no license recorded"


def test_every_designed_model_has_a_reference():
    missing = [n for n, e in _ours().items() if not e.info.get("learned") and n not in ref.REFERENCES]
    assert not missing, (
        f"designed models without a float reference: {missing}; register one at import of the module that "
        "holds its maths with edge.analysis.reference.register_reference(name, reference_fn, input_fn), "
        "or mark a trained model `learned: true` in the manifest")


@pytest.mark.parametrize("name", sorted(ref.REFERENCES))
def test_manifest_outputs_match_the_model(store, name):
    model = store.get(name)
    declared = set((store.entry(name).info.get("outputs") or {}).keys())
    assert declared == {o.name for o in model.outputs}


@pytest.mark.parametrize("name", sorted(ref.REFERENCES))
def test_int8_matches_float_reference(store, face_crop, name):
    if store.entry(name).info.get("learned"):
        pytest.skip("a learned model has no designed reference")
    model = store.get(name)
    size = model.input.shape[1]
    assert face_crop.shape[0] == size, "the test crop must have the model's input size"
    x = ref.MODEL_INPUTS[name](face_crop)
    got = model.run(x.reshape(model.input.shape) if x.dtype == model.input.dtype else x.astype(np.float32))
    want = ref.REFERENCES[name](x)
    assert set(got) == set(want)
    failures = []
    for out, w in want.items():
        g = got[out].reshape(w.shape)
        w3, g3 = w.reshape(*w.shape[:2], -1), g.reshape(*g.shape[:2], -1)
        for ch in range(w3.shape[-1]):
            a, b = g3[..., ch].ravel().astype(np.float64), w3[..., ch].ravel().astype(np.float64)
            r = float(np.corrcoef(a, b)[0, 1])
            mae = float(np.abs(a - b).mean()) / max(float(b.max() - b.min()), 1e-9)
            if r < MIN_PEARSON or mae > MAX_MAE_OF_RANGE:
                failures.append(f"{out}[{ch}]: pearson {r:.4f}, mae {100 * mae:.2f}% of range")
    assert not failures, failures


class _StubModel:
    def __init__(self, spec):
        self.input = spec


class _StubStore:
    """Just enough of ModelStore for input preparation: a swapped-in model's input spec and entry."""

    def __init__(self, spec, info):
        self.spec, self.info = spec, info

    def get(self, name):
        return _StubModel(self.spec)

    def entry(self, name):
        return type("Entry", (), {"info": self.info})()


@pytest.mark.parametrize("dtype,scale,zp,info,expect", [
    (np.uint8, 1.0, 0, {}, "same"),  # our designed models: pixel values as they are
    (np.uint8, 0.0, 0, {}, "same"),  # unquantized uint8 (skin_pigment)
    (np.float32, 0.0, 0, {"input": {"range": [0, 1]}}, "unit"),  # a trained float model on [0, 1]
    (np.int8, 0.5, -3, {}, "float"),  # another quantization: TFLiteModel.run quantizes the float pixels
])
def test_loader_prepares_input_for_swapped_models(face_crop, dtype, scale, zp, info, expect):
    from types import SimpleNamespace

    from edge.analysis.maps import _model_input
    from edge.runtime.interpreter import TensorSpec

    spec = TensorSpec("image", 0, (1, 256, 256, 1), np.dtype(dtype), scale, zp)  # another input size too
    ctx = SimpleNamespace(crop=face_crop, crop_size=face_crop.shape[0])
    x = _model_input(ctx, _StubStore(spec, info), "skin_texture")
    assert x.shape == spec.shape
    if expect == "same":
        assert x.dtype == np.uint8
    elif expect == "unit":
        assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0 and x.max() > 0.5
    else:
        assert x.dtype == np.float32 and x.max() > 1.0
