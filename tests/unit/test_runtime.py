"""Model runtime: manifest hashes, tensor specs read from the model, quantize helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.runtime import ModelError, ModelStore, TensorSpec, dequantize, load_manifest, quantize, sha256_of

ROOT = Path(__file__).resolve().parents[2]


def test_every_present_model_matches_its_hash():
    entries = load_manifest(ROOT / "models" / "manifest.yaml")
    assert {"face_detection_short_range", "face_detection_full_range_sparse", "face_landmark"} <= set(entries)
    checked = 0
    for entry in entries.values():
        path = ROOT / "models" / entry.file
        if entry.info.get("fetched") and not path.exists():
            continue  # fetched at set-up; scripts/setup.sh has run in the test command
        assert sha256_of(path) == entry.sha256, entry.name
        checked += 1
    assert checked >= 3


def test_tensor_specs_read_from_model():
    store = ModelStore(ROOT / "models", ROOT / "models" / "manifest.yaml", num_threads=1)
    model = store.get("face_landmark")
    assert model.input.shape == (1, 192, 192, 3) and model.input.dtype == np.float32
    assert sorted(int(np.prod(o.shape)) for o in model.outputs) == [1, 1404]
    assert store.get("face_landmark") is model  # created once, reused
    out = model.run(np.zeros((192, 192, 3), np.float32))
    assert set(out) == {o.name for o in model.outputs}


def test_tampered_model_is_refused(tmp_path):
    (tmp_path / "m.tflite").write_bytes(b"not a model")
    (tmp_path / "manifest.yaml").write_text("models:\n  m:\n    file: m.tflite\n    sha256: " + "0" * 64 + "\n")
    store = ModelStore(tmp_path, tmp_path / "manifest.yaml")
    with pytest.raises(ModelError, match="does not match"):
        store.get("m")
    with pytest.raises(ModelError, match="not in the manifest"):
        store.get("other")


@pytest.mark.parametrize("dtype,zp", [(np.int8, -3), (np.uint8, 128)])
def test_quantize_roundtrip_and_saturation(dtype, zp):
    spec = TensorSpec("t", 0, (4,), np.dtype(dtype), 0.05, zp)
    x = np.array([0.0, 0.5, -1.0, 1.0], np.float32)
    assert np.allclose(dequantize(quantize(x, spec), spec), x, atol=0.026)
    big = quantize(np.array([1e6, -1e6], np.float32), spec)
    info = np.iinfo(dtype)
    assert big.tolist() == [info.max, info.min]


def test_float_tensor_passthrough():
    spec = TensorSpec("t", 0, (2,), np.dtype(np.float32), 0.0, 0)
    assert not spec.quantized
    assert dequantize(np.array([1, 2], np.float32), spec).tolist() == [1.0, 2.0]
