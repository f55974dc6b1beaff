"""One small wrapper over the TFLite interpreter (LiteRT first, tflite_runtime as fallback).

Shape follows MediaPipe Tasks: options dataclass -> `TFLiteModel.create_from_options` -> `run()` ->
outputs dict; `close()` / context manager. Tensor names, shapes, dtypes and quantization are read
from the model, never hard-coded. An interpreter is not thread-safe: create one per worker and reuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


def _load_interpreter_class() -> tuple[type, str]:
    try:
        from ai_edge_litert.interpreter import Interpreter  # maintained successor, numpy 2 OK

        return Interpreter, "ai_edge_litert"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter  # older Pi images (numpy < 2)

        return Interpreter, "tflite_runtime"
    except ImportError as exc:
        raise ImportError(
            "No TFLite interpreter: install `ai-edge-litert` (or `tflite-runtime` on numpy<2 systems)"
        ) from exc


@dataclass(frozen=True)
class TensorSpec:
    """What the model says about one input or output tensor."""

    name: str
    index: int
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float  # 0.0 when the tensor is not quantized
    zero_point: int

    @property
    def quantized(self) -> bool:
        return self.scale != 0.0 and np.issubdtype(self.dtype, np.integer)


def quantize(values: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """Float -> the tensor's integer dtype with its scale/zero point (saturating)."""
    if not spec.quantized:
        return values.astype(spec.dtype, copy=False)
    info = np.iinfo(spec.dtype)
    q = np.round(values / spec.scale + spec.zero_point)
    return np.clip(q, info.min, info.max).astype(spec.dtype)


def dequantize(values: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """Integer tensor -> float32 real values; float tensors pass through as float32."""
    if not spec.quantized:
        return values.astype(np.float32, copy=False)
    return (values.astype(np.float32) - np.float32(spec.zero_point)) * np.float32(spec.scale)


@dataclass(frozen=True)
class ModelOptions:
    model_path: Path
    num_threads: int = 2


class TFLiteModel:
    """A loaded .tflite model with its tensor specs; `run()` feeds inputs and returns named outputs."""

    backend: str

    def __init__(self, options: ModelOptions) -> None:
        interpreter_cls, self.backend = _load_interpreter_class()
        path = Path(options.model_path)
        if not path.exists():
            raise FileNotFoundError(f"model file missing: {path} (run scripts/setup.sh or scripts/fetch_models.py)")
        self.options = options
        self._interpreter: Any = interpreter_cls(model_path=str(path), num_threads=options.num_threads)
        self._interpreter.allocate_tensors()
        self.inputs = [self._spec(d) for d in self._interpreter.get_input_details()]
        self.outputs = [self._spec(d) for d in self._interpreter.get_output_details()]

    @classmethod
    def create_from_options(cls, options: ModelOptions) -> TFLiteModel:
        return cls(options)

    @staticmethod
    def _spec(detail: dict[str, Any]) -> TensorSpec:
        scale, zero_point = detail.get("quantization", (0.0, 0))
        return TensorSpec(
            name=detail["name"],
            index=int(detail["index"]),
            shape=tuple(int(s) for s in detail["shape"]),
            dtype=np.dtype(detail["dtype"]),
            scale=float(scale),
            zero_point=int(zero_point),
        )

    @property
    def input(self) -> TensorSpec:
        return self.inputs[0]

    def output(self, name: str) -> TensorSpec:
        for spec in self.outputs:
            if spec.name == name:
                return spec
        raise KeyError(f"model {self.options.model_path.name} has no output {name!r}")

    def run(self, *inputs: np.ndarray, dequantize_outputs: bool = True) -> dict[str, np.ndarray]:
        """Invoke once. Float inputs are quantized if the tensor is integer; integer inputs of the
        tensor's own dtype are fed as they are. Outputs come back dequantized to float32 by default."""
        if len(inputs) != len(self.inputs):
            raise ValueError(f"expected {len(self.inputs)} inputs, got {len(inputs)}")
        for spec, value in zip(self.inputs, inputs, strict=True):
            arr = np.asarray(value)
            if arr.dtype != spec.dtype:
                arr = quantize(arr.astype(np.float32), spec) if spec.quantized else arr.astype(spec.dtype)
            if tuple(arr.shape) != spec.shape:
                arr = arr.reshape(spec.shape)
            self._interpreter.set_tensor(spec.index, np.ascontiguousarray(arr))
        self._interpreter.invoke()
        result: dict[str, np.ndarray] = {}
        for spec in self.outputs:
            raw = self._interpreter.get_tensor(spec.index)
            result[spec.name] = dequantize(raw, spec) if dequantize_outputs else raw.copy()
        return result

    def close(self) -> None:
        self._interpreter = None

    def __enter__(self) -> TFLiteModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
