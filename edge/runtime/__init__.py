"""TFLite runtime: interpreter wrapper, quantization helpers, model manifest."""

from edge.runtime.interpreter import ModelOptions, TensorSpec, TFLiteModel, dequantize, quantize
from edge.runtime.manifest import ModelError, ModelStore, load_manifest, sha256_of, verify_file

__all__ = [
    "ModelError",
    "ModelOptions",
    "ModelStore",
    "TFLiteModel",
    "TensorSpec",
    "dequantize",
    "load_manifest",
    "quantize",
    "sha256_of",
    "verify_file",
]
