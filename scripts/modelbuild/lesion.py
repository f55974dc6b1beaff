"""`lesion_blobs`: multi-scale blob responses (dark / melanin / hemoglobin) for acnespotmole and
blackheadpore. The maths and every coefficient live in edge/analysis/lesion_blobs.py (the float
reference); this module writes the same maths as a TensorFlow graph and builds it with
scripts/build_models.py's helpers (conversion, representative crops, checks, manifest):

    .venv-build/bin/python scripts/modelbuild/lesion.py [--no-manifest] [--out DIR]

Input: the three lesion channels (float, made by `lesion_blobs.model_input`; measured: computing them
in-graph from ReLU -ln hinges cost hemoglobin maps Pearson ~0.75, one weight scale cannot hold the
hinge slopes' 20:1 spread times the pigment matrix's cancelling coefficients). Graph: an average-pool
pyramid for large scales and per scale a derivative-first separable -sigma^2 LoG on all three channels
at once (depthwise 1-D second derivative, then depthwise 1-D smoothing along the other axis;
derivative taps divided by each channel's CLIP so the three channels fill one int8 scale). Measured:
three single-channel branches per scale took ~96 ms on 512^2; this layout ~10x less.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _lesion_module() -> ModuleType:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from edge.analysis import lesion_blobs

    return lesion_blobs


def design(bm: ModuleType):
    """The `lesion_blobs` ModelDesign (bm: scripts/build_models.py's module namespace)."""
    tf = bm.tf
    lb = _lesion_module()
    bm.ref.REFERENCES.setdefault(lb.MODEL_NAME, lb.lesion_blobs_reference)

    outputs = {}
    for level, sigma in lb.SCALES:
        size = bm.CROP_SIZE // 2**level
        chans = lb.channels_at(level)
        clips = ", ".join(f"{c} {lb.CLIP[c]:g}" for c in chans)
        outputs[lb.output_name(level, sigma)] = (
            f"[1,{size},{size},{len(chans)}] channels ({', '.join(chans)}): -sigma^2 LoG of each channel, sigma "
            f"{lb.crop_sigma(level, sigma)} crop px, divided by the channel's CLIP ({clips} OD) and clipped to "
            f"[-1, 1]; x CLIP = OD contrast, ~ 0.74 c at the centre of a disc of radius sqrt(2) sigma holding c OD more than its surround")

    def graph(chans):
        out = {}
        pyramid = {0: chans}  # 2x2 means of 2x2 means: each level read once, from the one below
        for level in range(1, max(lv for lv, _ in lb.SCALES) + 1):
            pyramid[level] = tf.nn.avg_pool2d(pyramid[level - 1], 2, 2, padding="VALID")
        for level, sigma in lb.SCALES:
            names = lb.channels_at(level)
            y = chans[..., :len(names)] if level == 0 else pyramid[level]
            taps = [lb.scale_taps(sigma, lb.CLIP[c]) for c in names]
            g_taps, d2_taps = [g for g, _ in taps], [d for _, d in taps]
            dyy = bm.clip(bm.depthwise_1d(y, d2_taps, vertical=True), 1.0)
            dxx = bm.clip(bm.depthwise_1d(y, d2_taps, vertical=False), 1.0)
            out[lb.output_name(level, sigma)] = bm.clip(
                bm.depthwise_1d(dyy, g_taps, vertical=False) + bm.depthwise_1d(dxx, g_taps, vertical=True), 1.0)
        return out

    return bm.ModelDesign(
        name=lb.MODEL_NAME,
        graph=graph,
        outputs=outputs,
        computes="point-lesion blob responses: -sigma^2 LoG of the dark channel at sigma 1 crop px (full "
                 "resolution) and of the dark/melanin/hemoglobin channels on a 2/4/8x average-pooled pyramid "
                 "(sigma 2, 4, 8, 16 crop px), "
                 "derivative-first separable depthwise convs",
        used_by=("edge/analysis/lesion_blobs.py:blob_maps", "acnespotmole", "blackheadpore"),
        input_layout="NHWC (dark, mel, hem) lesion channels of the RGB face crop, from "
                     "edge/analysis/lesion_blobs.py:model_input (OD via the -ln LUT, 3x3 matrix, shift, clip to "
                     "+-1.2 OD); float in [-1.2, 1.2] quantized with the input tensor's scale",
    )


def channel_metrics(int8: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """Per output map and channel ("blob_s1.hem"): (Pearson r, MAE / reference range)."""
    lb = _lesion_module()
    result = {}
    for name, want in reference.items():
        got = int8[name].reshape(want.shape)
        for i, ch in enumerate(lb.CHANNELS[: want.shape[-1]]):
            a, b = got[..., i].ravel(), want[..., i].ravel()
            span = float(b.max() - b.min()) or 1.0
            result[f"{name}.{ch}"] = (float(np.corrcoef(a, b)[0, 1]), float(np.abs(a - b).mean()) / span)
    return result


def build(bm: ModuleType, write_manifest: bool = True, runs: int = 30) -> dict[str, tuple[float, float]]:
    """Convert, check and write models/lesion_blobs.tflite (+ its manifest entry); returns the metrics."""
    tf = bm.tf
    lb = _lesion_module()
    d = design(bm)
    check = lb.model_input(bm.base_crop()[..., ::-1])  # base_crop() is RGB
    got = d.graph(tf.constant(check[None]))
    for name, want in lb.lesion_blobs_reference(check).items():
        err = float(np.abs(got[name].numpy()[0] - want).max())
        if err > 1e-3:
            raise SystemExit(f"{d.name}.{name}: float graph differs from reference by {err}")
    inputs = [lb.model_input(np.ascontiguousarray(c[..., ::-1])) for c in bm.representative_crops()]
    model = bm.convert(d, inputs)
    bm.check_integer_only(model, d.name)
    outs, ms = bm.run_tflite(model, check.astype(np.float32), runs=runs)
    metrics = channel_metrics(outs, lb.lesion_blobs_reference(check))
    (bm.MODELS_DIR / f"{d.name}.tflite").write_bytes(model)
    print(f"{d.name}: {len(model) / 1024:.1f} KiB, int8 latency p50 {ms:.2f} ms (512x512, 2 threads)")
    for key, (r, mae) in metrics.items():
        print(f"  {key:<16} pearson {r:.4f}  mae {100 * mae:.2f}% of range")
    if write_manifest:
        worst = {n: (min(v[0] for k, v in metrics.items() if k.startswith(n + ".")),
                     max(v[1] for k, v in metrics.items() if k.startswith(n + "."))) for n in d.outputs}
        entry = bm.manifest_entry(d, model, worst).replace("range: [0, 255]}", "range: [-1.2, 1.2]}")
        entry = entry.replace("    int8_vs_reference: {", "    int8_vs_reference (worst channel per map): {")
        entry = re.sub(r"    built_by: .*\n", "    built_by: scripts/modelbuild/lesion.py (designed filter graph, taps from edge/analysis/lesion_blobs.py; "
                       "build_models.py helpers; representative set = skimage astronaut face crops + augmentations)\n", entry)
        entry += (f"    int8_latency_ms_p50: {ms:.1f}  # 512x512, 2 threads, build machine\n"
                  "    output_scale: \"multiply channel i by CLIP = (%s) for OD contrast\"\n"
                  % ", ".join(f"{lb.CLIP[c]:g}" for c in lb.CHANNELS))
        bm.update_manifest({d.name: entry})
        print(f"updated {bm.MANIFEST}")
    return metrics


def _load_build_models() -> ModuleType:
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_models", ROOT / "scripts" / "build_models.py")
    assert spec and spec.loader
    bm = importlib.util.module_from_spec(spec)
    sys.modules["build_models"] = bm
    spec.loader.exec_module(bm)
    return bm


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="build models/lesion_blobs.tflite (TensorFlow build venv)")
    parser.add_argument("--no-manifest", action="store_true")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--out", type=Path, help="write the model to this directory instead of models/")
    args = parser.parse_args()
    bm = _load_build_models()
    if args.out:
        bm.MODELS_DIR = args.out
        args.out.mkdir(parents=True, exist_ok=True)
    build(bm, write_manifest=not args.no_manifest, runs=args.runs)
