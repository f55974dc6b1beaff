#!/usr/bin/env python3
"""Build our designed analysis models as full-integer int8 TFLite files and record them in the manifest.

Needs TensorFlow (the `build` extra), so run it from the build venv, never at run time:

    python3 -m venv .venv-build && .venv-build/bin/pip install tensorflow-cpu opencv-python-headless \
        scikit-image pyyaml numpy          # (= the project's `build` extra without the run-time stack)
    .venv-build/bin/python scripts/build_models.py            # every designed model
    .venv-build/bin/python scripts/build_models.py skin_texture --no-manifest

Each model is a *designed filter graph*: a TensorFlow function whose weights are set analytically from
`edge/analysis/reference.py` (colour transforms as 1x1 convolutions, separable Gaussian / derivative
filters as depthwise convs in column layout, pooling for local statistics). It is converted with
a representative dataset of real face crops plus augmentations (exposure, white balance, skin tone,
redness, rotation, scale, noise, blur, JPEG) to uint8 input / int8 ops / int8 outputs, its output
tensors are renamed to the names in the design, and it is checked against the numpy reference.

Adding a model (e.g. for lesions or wrinkles):
  1. write `<name>_reference(model_input) -> {output: float map}` and the input maker (BGR crop -> model
     input) in edge/analysis/reference.py and list them in `REFERENCES` / `MODEL_INPUTS` there (or, for
     maths kept in an analyzer's own module, call `reference.register_reference` at its import);
  2. write a graph function here with the same maths (take the coefficients from `ref`) and register it
     with `@design(name=..., outputs={...}, ...)`;
  3. run this script: it writes models/<name>.tflite and the manifest entry, and prints int8-vs-reference
     numbers; tests/unit/test_models_int8.py then checks every model in `REFERENCES`.
Pitfalls, measured on this project's 2-core machine (512x512 crop):
- one tensor = one int8 scale: give maps of very different magnitude their own tensors, and take
  derivatives before smoothing in a branch (the small derivative range then gets its own scale);
- zero-mean filters must stay zero-mean after weight quantization (`reference.int8_taps(zero_sum=True)`):
  a DC leak of a few 1/127 steps cost the fine LoG map r 0.97; exact taps gave 0.9999;
- -ln as ReLU hinges needs 20:1 slope spreads that one per-channel weight scale cannot hold
  (hemoglobin r 0.82); an exact 256-entry table indexed by the raw uint8 pixel (GATHER) gives 0.999;
- layout: XNNPACK vectorises over channels, so a k x 1 conv on a single-channel map took ~25 ms; the
  same filter as a depthwise conv in column layout (`columns`, `filter_columns`, `transpose`) ~0.2 ms;
  depthwise convs with a channel multiplier > 1 fall off the fast path (~14 ms), avoid them.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "models"
MANIFEST = MODELS_DIR / "manifest.yaml"


def _load_reference():
    """edge/analysis/reference.py by path: importing the edge.analysis package would pull in every
    analyzer and its run-time dependencies, which this venv need not have."""
    path = ROOT / "edge" / "analysis" / "reference.py"
    spec = importlib.util.spec_from_file_location("skin_kiosk_reference", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ref = _load_reference()

CROP_SIZE = 512  # the FaceContext crop size the models are built for (face.crop_size in config)

# ------------------------------------------------------------------------------------------------
# Registry
# ------------------------------------------------------------------------------------------------
GraphFn = Callable[[tf.Tensor], dict[str, tf.Tensor]]


@dataclass(frozen=True)
class ModelDesign:
    """One designed model: its float TF graph, what it computes, and each output's meaning."""

    name: str
    graph: GraphFn  # NHWC batch-1 input tensor -> {output name: float32 tensor}
    outputs: dict[str, str]  # output name -> meaning, units and resolution
    computes: str
    used_by: tuple[str, ...]
    input_size: int = CROP_SIZE
    input_layout: str = "NHWC RGB, the face-aligned crop (FaceContext.crop converted BGR->RGB)"
    input_channels: int = 3
    # False: float signature, quantized by the converter (uint8 pixels 0..255 get scale 1, zero point 0).
    # True: the graph receives the raw uint8 tensor (e.g. to index a lookup table with GATHER).
    raw_uint8_input: bool = False
    input_range: str = "[0, 255]"

    @property
    def reference(self) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
        return ref.REFERENCES[self.name]


MODEL_BUILDERS: dict[str, ModelDesign] = {}


def design(**kwargs) -> Callable[[GraphFn], GraphFn]:
    """Decorator: register a graph function as a designed model (see ModelDesign for the fields)."""

    def deco(fn: GraphFn) -> GraphFn:
        d = ModelDesign(graph=fn, **kwargs)
        if d.name not in ref.REFERENCES or d.name not in ref.MODEL_INPUTS:
            raise SystemExit(f"{d.name}: add its float reference and input to edge/analysis/reference.py")
        MODEL_BUILDERS[d.name] = d
        return fn

    return deco


# ------------------------------------------------------------------------------------------------
# Graph building blocks (all weights constant; correlation with zero "SAME" padding)
# ------------------------------------------------------------------------------------------------
def conv1x1(x: tf.Tensor, weights: np.ndarray, bias: np.ndarray | None = None) -> tf.Tensor:
    """weights (in, out): a per-pixel linear map (colour transform, channel mixing)."""
    w = tf.constant(np.asarray(weights, np.float32).reshape(1, 1, *np.shape(weights)))
    y = tf.nn.conv2d(x, w, strides=1, padding="SAME")
    return y if bias is None else tf.nn.bias_add(y, tf.constant(np.asarray(bias, np.float32)))


def conv_vertical(x: tf.Tensor, taps: list[np.ndarray]) -> tf.Tensor:
    """One single-channel input -> len(taps) channels, each a vertical 1-D filter (k x 1 conv).
    Slow on one channel (XNNPACK vectorises over channels): prefer `columns` + `filter_columns`."""
    k = max(len(t) for t in taps)
    w = np.zeros((k, 1, 1, len(taps)), np.float32)
    for i, t in enumerate(taps):
        off = (k - len(t)) // 2
        w[off:off + len(t), 0, 0, i] = t
    return tf.nn.conv2d(x, tf.constant(w), strides=1, padding="SAME")


def conv_horizontal(x: tf.Tensor, taps: list[np.ndarray]) -> tf.Tensor:
    """One single-channel input -> len(taps) channels, each a horizontal 1-D filter (1 x k conv)."""
    k = max(len(t) for t in taps)
    w = np.zeros((1, k, 1, len(taps)), np.float32)
    for i, t in enumerate(taps):
        off = (k - len(t)) // 2
        w[0, off:off + len(t), 0, i] = t
    return tf.nn.conv2d(x, tf.constant(w), strides=1, padding="SAME")


def depthwise_1d(x: tf.Tensor, taps: list[np.ndarray], vertical: bool) -> tf.Tensor:
    """Channel i filtered by taps[i] along one axis (depthwise conv, multiplier 1)."""
    k = max(len(t) for t in taps)
    shape = (k, 1, len(taps), 1) if vertical else (1, k, len(taps), 1)
    w = np.zeros(shape, np.float32)
    for i, t in enumerate(taps):
        off = (k - len(t)) // 2
        if vertical:
            w[off:off + len(t), 0, i, 0] = t
        else:
            w[0, off:off + len(t), i, 0] = t
    return tf.nn.depthwise_conv2d(x, tf.constant(w), strides=[1, 1, 1, 1], padding="SAME")


def clip(x: tf.Tensor, limit: float) -> tf.Tensor:
    return tf.minimum(tf.maximum(x, -limit), limit)


# Single-channel maps in "column layout": [1, H, W, 1] and [1, H, 1, W] share one memory layout, so a
# reshape turns every image column into a channel. A vertical 1-D filter is then a depthwise conv over
# W channels (XNNPACK vectorises over channels: ~0.2 ms on 512^2 instead of ~10 ms for a k x 1 conv on
# one channel), and a transpose swaps the roles of rows and columns for the horizontal pass.
def columns(x: tf.Tensor) -> tf.Tensor:
    """[1, H, W, 1] -> [1, H, 1, W] (free)."""
    _, h, w, _ = x.shape
    return tf.reshape(x, [1, h, 1, w])


def image(x: tf.Tensor) -> tf.Tensor:
    """[1, H, 1, W] -> [1, H, W, 1] (free)."""
    _, h, _, w = x.shape
    return tf.reshape(x, [1, h, w, 1])


def transpose(x: tf.Tensor) -> tf.Tensor:
    """Column layout of an image -> column layout of its transpose ([1, H, 1, W] -> [1, W, 1, H])."""
    _, h, _, w = x.shape
    return tf.reshape(tf.transpose(tf.reshape(x, [h, w])), [1, w, 1, h])


def filter_columns(x: tf.Tensor, taps: np.ndarray, stride: int = 1) -> tf.Tensor:
    """Column layout: filter along the rows axis (the image's vertical) with one 1-D kernel; with
    stride > 1 and a box kernel this is block pooling ("VALID")."""
    _, _, _, c = x.shape
    k = len(taps)
    w = np.repeat(np.asarray(taps, np.float32).reshape(k, 1, 1, 1), c, axis=2)
    padding = "SAME" if stride == 1 else "VALID"
    return tf.nn.depthwise_conv2d(x, tf.constant(w), strides=[1, stride, stride, 1], padding=padding)


def separable(x_cols: tf.Tensor, taps_y: np.ndarray, taps_x: np.ndarray) -> tf.Tensor:
    """Column layout in and out: vertical taps_y, then horizontal taps_x (two transposes)."""
    return transpose(filter_columns(transpose(filter_columns(x_cols, taps_y)), taps_x))


# ------------------------------------------------------------------------------------------------
# Designed models
# ------------------------------------------------------------------------------------------------
@design(
    name="skin_pigment",
    outputs={
        "melanin": "[1,512,512,1] melanin coefficient of each pixel's RGB optical density (OD units; "
                   "0 = neutral grey, typical skin 0.2-0.7, higher = browner)",
        "hemoglobin": "[1,512,512,1] hemoglobin coefficient (OD units; typical skin 0.4-1.0, higher = redder)",
        "shading": "[1,512,512,1] shading coefficient along OD (1,1,1) (OD units; exposure and shadows)",
    },
    computes="Tsumura-style optical-density decomposition of skin colour: per-channel exact -ln(v) table "
             "(GATHER on the uint8 pixel), then the fixed inverse of [melanin, hemoglobin, shading] "
             "(per-output MUL/ADD, so each map has its own int8 scale)",
    used_by=("edge/analysis/maps.py:pigment_maps", "skinface", "skinquality"),
    raw_uint8_input=True,
    input_layout="NHWC RGB uint8 pixel values, unquantized (the face-aligned crop, BGR->RGB)",
)
def skin_pigment_graph(x: tf.Tensor) -> dict[str, tf.Tensor]:
    # The OD table is stored centred (a symmetric int8 range halves its step); the melanin and
    # hemoglobin rows sum to 0, so only shading needs the centre added back.
    table = tf.constant((ref.od_table() - ref.OD_CENTER).astype(np.float32))
    od = [tf.gather(table, ch) for ch in tf.unstack(tf.cast(x, tf.int32), axis=-1)]
    out = {}
    for row, name in enumerate(ref.PIGMENT_OUTPUTS):
        p = ref.PIGMENT_MATRIX[row].astype(np.float32)
        value = od[0] * p[0] + od[1] * p[1] + od[2] * p[2]
        if abs(p.sum()) > 1e-6:
            value = value + np.float32(ref.OD_CENTER * p.sum())
        out[name] = tf.expand_dims(value, -1)
    return out


@design(
    name="skin_texture",
    outputs={
        "log_fine": f"[1,512,512,1] sigma^2 LoG of luma, sigma {ref.LOG_SIGMAS[0]} crop px (~0.5 mm), grey "
                    f"levels, positive on dark dots/valleys, clipped to +-{ref.LOG_CLIP:g}",
        "log_coarse": f"[1,512,512,1] sigma^2 LoG of luma, sigma {ref.LOG_SIGMAS[1]} crop px (~1 mm), same units",
        "luma_mean": f"[1,128,128,1] local mean luma (0..255): {ref.MEAN_POOL}x{ref.MEAN_POOL} block mean then "
                     f"Gaussian sigma {ref.MEAN_SIGMA:g} pooled px (~16 crop px)",
    },
    computes="band-pass texture at two scales (derivative-first separable Gxx + Gyy, column-layout "
             "depthwise convs) and the local skin brightness level (block mean + separable Gaussian)",
    used_by=("edge/analysis/maps.py:texture_maps", "smooth", "skinquality", "color"),
    input_channels=1,
    input_layout="NHWC grey uint8 (luma of the face-aligned crop, cv2.COLOR_BGR2GRAY), scale 1, zero point 0",
)
def skin_texture_graph(x: tf.Tensor) -> dict[str, tf.Tensor]:
    y = columns(x)
    yt = transpose(y)
    out = {}
    for name, sigma in zip(("log_fine", "log_coarse"), ref.LOG_SIGMAS, strict=True):
        g, d2 = ref.log_kernels(sigma)
        # Derivative first in each branch (small range, own scale), then smoothing along the other axis.
        dyy = clip(filter_columns(y, d2), ref.LOG_CLIP)  # d2/dy2, column layout
        dxx_t = clip(filter_columns(yt, d2), ref.LOG_CLIP)  # d2/dx2, transposed layout
        gyy = transpose(filter_columns(transpose(dyy), g))
        gxx = filter_columns(transpose(dxx_t), g)
        out[name] = image(clip(gyy + gxx, ref.LOG_CLIP))
    box = np.full(ref.MEAN_POOL, 1.0 / ref.MEAN_POOL)
    pooled = transpose(filter_columns(transpose(filter_columns(y, box, ref.MEAN_POOL)), box, ref.MEAN_POOL))
    gm = ref.mean_kernel()
    out["luma_mean"] = image(separable(pooled, gm, gm))
    return out


# ------------------------------------------------------------------------------------------------
# Representative data: real face crops + augmentations
# ------------------------------------------------------------------------------------------------
# The astronaut's face-aligned crop as the run-time pipeline makes it (centre, side, roll measured
# from edge.pipeline on skimage.data.astronaut()); augmentations jitter all three.
ASTRONAUT_CROP = {"center": (224.5, 123.4), "side": 133.3, "angle_deg": 3.5}


def face_crop(rgb: np.ndarray, center: tuple[float, float], side: float, angle_deg: float,
              size: int = CROP_SIZE) -> np.ndarray:
    """Square crop of `side` source px about `center`, rotated by angle_deg (OpenCV sense), to size px."""
    scale = size / side
    m = cv2.getRotationMatrix2D(center, angle_deg, scale)
    m[:, 2] += np.array([size / 2, size / 2]) - np.array(center)
    return cv2.warpAffine(rgb, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def base_crop() -> np.ndarray:
    from skimage import data

    return face_crop(data.astronaut(), **ASTRONAUT_CROP)


def _pigment_shift(rgb: np.ndarray, melanin: float, hemoglobin: float) -> np.ndarray:
    """Add melanin/hemoglobin optical density (makes darker / redder skins from the one photo)."""
    od = -np.log(np.clip(rgb.astype(np.float32), 1, 255) / 255.0)
    od += melanin * np.asarray(ref.MELANIN_OD, np.float32) + hemoglobin * np.asarray(ref.HEMOGLOBIN_OD, np.float32)
    return np.clip(np.exp(-od) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def representative_crops(count: int = 48, seed: int = 7) -> Iterator[np.ndarray]:
    from skimage import data

    src = data.astronaut()
    rng = np.random.default_rng(seed)
    yield base_crop()
    for _ in range(count - 1):
        cx, cy = ASTRONAUT_CROP["center"]
        crop = face_crop(src, (cx + rng.normal(0, 4), cy + rng.normal(0, 4)),
                         ASTRONAUT_CROP["side"] * rng.uniform(0.85, 1.2),
                         ASTRONAUT_CROP["angle_deg"] + rng.normal(0, 6))
        crop = _pigment_shift(crop, rng.uniform(-0.1, 1.6), rng.uniform(-0.2, 0.4))
        img = crop.astype(np.float32) * rng.uniform(0.6, 1.35) * rng.uniform(0.9, 1.1, size=3)
        if rng.random() < 0.5:
            img = img[:, ::-1]
        if rng.random() < 0.4:
            img = img + rng.normal(0, rng.uniform(1, 6), img.shape)
        img = np.clip(img, 0, 255).astype(np.uint8)
        if rng.random() < 0.3:
            img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.5))
        if rng.random() < 0.5:
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(55, 95))])
            img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        yield np.ascontiguousarray(img)


# ------------------------------------------------------------------------------------------------
# Conversion, naming, checking
# ------------------------------------------------------------------------------------------------
def model_inputs(d: ModelDesign, crops_rgb: list[np.ndarray]) -> list[np.ndarray]:
    """Each RGB crop as the model's input, made exactly as at run time (reference.MODEL_INPUTS)."""
    return [ref.MODEL_INPUTS[d.name](np.ascontiguousarray(c[..., ::-1])) for c in crops_rgb]


def convert(d: ModelDesign, inputs: list[np.ndarray]) -> bytes:
    """Full-integer conversion; `inputs` are model inputs ((H, W) or (H, W, C) arrays) for calibration."""
    names = list(d.outputs)
    dtype = tf.uint8 if d.raw_uint8_input else tf.float32
    spec = tf.TensorSpec([1, d.input_size, d.input_size, d.input_channels], dtype, name="image")

    @tf.function(input_signature=[spec])
    def fn(x):
        out = d.graph(x)
        if set(out) != set(names):
            raise ValueError(f"{d.name}: graph outputs {sorted(out)} != design {sorted(names)}")
        return tuple(out[n] for n in names)  # a tuple keeps the order: Identity, Identity_1, ...

    def representative():
        for value in inputs:
            arr = value.reshape(1, d.input_size, d.input_size, d.input_channels)
            yield [arr.astype(np.uint8 if d.raw_uint8_input else np.float32)]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.int8
    return rename_tensors(converter.convert(), names)


def rename_tensors(model: bytes, output_names: list[str]) -> bytes:
    """Name the input `image` and each output by its design name (the converter calls the i-th
    returned tensor Identity_i), so the run time finds outputs by meaning."""
    from tensorflow.lite.tools import flatbuffer_utils

    obj = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    sub = obj.subgraphs[0]
    for idx in sub.outputs:
        tensor = sub.tensors[idx]
        old = tensor.name.decode() if isinstance(tensor.name, bytes) else tensor.name
        match = re.fullmatch(r"Identity(?:_(\d+))?", old)
        if not match:
            raise SystemExit(f"unexpected output tensor name {old!r}")
        tensor.name = output_names[int(match.group(1) or 0)].encode()
    sub.tensors[sub.inputs[0]].name = b"image"
    return bytes(flatbuffer_utils.convert_object_to_bytearray(obj))


def check_integer_only(model: bytes, name: str) -> None:
    """Refuse a model with float ops inside (e.g. an op the quantizer left in float, like LOG)."""
    interp = tf.lite.Interpreter(model_content=model)
    ops = [op["op_name"] for op in interp._get_ops_details()]
    floats = [t["name"] for t in interp.get_tensor_details() if t["dtype"] == np.float32]
    if "DEQUANTIZE" in ops or floats:
        raise SystemExit(f"{name}: not full-integer; ops {ops}, float tensors {floats}")


def run_tflite(model: bytes, value: np.ndarray, runs: int = 0) -> tuple[dict[str, np.ndarray], float]:
    """Outputs (dequantized) and median latency in ms over `runs` (2 threads, as on the kiosk). Pixel
    (integer) input is fed as it is; float input is quantized with the input tensor's scale."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        Interpreter = tf.lite.Interpreter  # noqa: N806
    interp = Interpreter(model_content=model, num_threads=2)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    scale, zp = inp["quantization"]
    if np.issubdtype(value.dtype, np.floating) and np.issubdtype(inp["dtype"], np.integer) and scale:
        # Real-valued input (e.g. optical densities): quantize with the input tensor's own scale.
        info = np.iinfo(inp["dtype"])
        value = np.clip(np.round(value / scale + zp), info.min, info.max)
    elif scale and (abs(scale - 1.0) > 1e-6 or zp != 0) and inp["dtype"] == np.uint8:
        raise SystemExit(f"uint8 input quantized as ({scale}, {zp}), expected pixel values (1, 0)")
    interp.set_tensor(inp["index"], value.reshape(inp["shape"]).astype(inp["dtype"]))
    interp.invoke()
    outs = {}
    for det in interp.get_output_details():
        scale, zp = det["quantization"]
        raw = interp.get_tensor(det["index"]).astype(np.float32)
        outs[det["name"]] = (raw - zp) * scale if scale else raw  # scale 0: an unquantized (float) output
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        interp.invoke()
        times.append((time.perf_counter() - t0) * 1000)
    return outs, float(np.median(times)) if times else 0.0


def compare(int8: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """Per output: (Pearson r, MAE as a fraction of the reference map's range)."""
    if set(int8) != set(reference):
        raise SystemExit(f"outputs {sorted(int8)} != reference {sorted(reference)}")
    result = {}
    for name, want in reference.items():
        got = int8[name].reshape(want.shape)
        r = float(np.corrcoef(got.ravel(), want.ravel())[0, 1])
        span = float(want.max() - want.min()) or 1.0
        result[name] = (r, float(np.abs(got - want).mean()) / span)
    return result


def check_float_graph(d: ModelDesign, value: np.ndarray) -> None:
    """The TF float graph and the numpy reference must agree before quantization is measured."""
    arr = value.reshape(1, d.input_size, d.input_size, d.input_channels)
    out = d.graph(tf.constant(arr if d.raw_uint8_input else arr.astype(np.float32)))
    want = d.reference(value)
    for name, value in want.items():
        err = float(np.abs(out[name].numpy().reshape(value.shape) - value).max())
        if err > 1e-3 * max(1.0, float(np.abs(value).max())):
            raise SystemExit(f"{d.name}.{name}: float graph differs from reference by {err}")


# ------------------------------------------------------------------------------------------------
# Manifest (targeted edit of our own entries; the face entries and comments stay as they are)
# ------------------------------------------------------------------------------------------------
def manifest_entry(d: ModelDesign, model: bytes, metrics: dict[str, tuple[float, float]],
                   latency_ms: float | None = None) -> str:
    interp = tf.lite.Interpreter(model_content=model)
    outs = {o["name"]: o for o in interp.get_output_details()}

    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        f"  {d.name}:",
        f"    file: {d.name}.tflite",
        f"    sha256: {hashlib.sha256(model).hexdigest()}",
        "    license: ours (Apache-2.0, the project's licence)",
        f"    input: {{name: image, shape: [1, {d.input_size}, {d.input_size}, {d.input_channels}], dtype: uint8, "
        f"layout: {q(d.input_layout)}, range: {d.input_range}}}",
        "    outputs:",
    ]
    for name, meaning in d.outputs.items():
        scale, zp = outs[name]["quantization"]
        r, mae = metrics[name]
        lines.append(f"      {name}: {q(meaning + f'; int8 scale {scale:.6g}, zero point {zp}')}")
    lines += [
        "    quantization: full-integer int8 (uint8 input, int8 weights per channel, int8 activations and outputs)",
        f"    computes: {q(d.computes)}",
        "    built_by: " + q("scripts/build_models.py (designed filter graph, weights from edge/analysis/reference.py; "
                        "representative set = face crops of skimage astronaut + augmentations)"),
        f"    tf_version: {tf.__version__}",
        "    int8_vs_reference: {" + ", ".join(
            f"{n}: {{pearson: {r:.4f}, mae_of_range: {m:.4f}}}" for n, (r, m) in metrics.items()) + "}",
        f"    used_by: [{', '.join(d.used_by)}]",
        "    swap: " + q("a trained model may replace this file if it takes the same input and has outputs with "
                    "these names, shapes and meanings (any quantization or float; the loader reads tensor types "
                    "from the file and the input range from this entry); update file, sha256 and built_by and add "
                    "`learned: true`, which exempts it from the int8-vs-designed-reference test"),
    ]
    if latency_ms is not None:
        lines.append(f"    int8_latency_ms_p50: {latency_ms:.1f}  # 512x512, 2 threads, build machine")
    return "\n".join(lines) + "\n"


def update_manifest(entries: dict[str, str]) -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    for name, block in entries.items():
        pattern = re.compile(rf"^  {re.escape(name)}:\n(?:(?:    .*|\s*)\n)*", re.MULTILINE)
        if pattern.search(text):
            text = pattern.sub(lambda _m, b=block: b, text, count=1)
        else:
            text = text.rstrip("\n") + "\n" + block
    MANIFEST.write_text(text, encoding="utf-8")


def register_modelbuild_modules() -> None:
    """Designed models kept in scripts/modelbuild/<name>.py: each module exposing `register(bm)` adds
    its design to this registry (modules that build themselves, without `register`, are skipped)."""
    import importlib
    import pkgutil
    import sys

    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    import modelbuild

    for info in pkgutil.iter_modules(modelbuild.__path__):
        module = importlib.import_module(f"modelbuild.{info.name}")
        if hasattr(module, "register"):
            module.register(sys.modules[__name__])


def main(argv: list[str] | None = None) -> int:
    register_modelbuild_modules()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="models to build (default: all designed models)")
    parser.add_argument("--no-manifest", action="store_true", help="do not write models/manifest.yaml")
    parser.add_argument("--runs", type=int, default=30, help="timed runs for the latency figure")
    args = parser.parse_args(argv)
    names = args.names or list(MODEL_BUILDERS)
    unknown = set(names) - set(MODEL_BUILDERS)
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}; designed: {sorted(MODEL_BUILDERS)}")

    crops = list(representative_crops())
    entries = {}
    for name in names:
        d = MODEL_BUILDERS[name]
        check = model_inputs(d, [base_crop()])[0]
        check_float_graph(d, check)
        model = convert(d, model_inputs(d, crops))
        check_integer_only(model, name)
        outs, ms = run_tflite(model, check, runs=args.runs)
        metrics = compare(outs, d.reference(check))
        (MODELS_DIR / f"{name}.tflite").write_bytes(model)
        entries[name] = manifest_entry(d, model, metrics, ms)
        print(f"{name}: {len(model) / 1024:.1f} KiB, int8 latency p50 {ms:.2f} ms (512x512, 2 threads)")
        for out, (r, mae) in metrics.items():
            print(f"  {out:<12} pearson {r:.4f}  mae {100 * mae:.2f}% of range")
    if not args.no_manifest:
        update_manifest(entries)
        print(f"updated {MANIFEST.relative_to(ROOT)}: {', '.join(entries)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
