"""The Analyzer protocol and registry: one module per API field (`face_field` name).

An analyzer is created once per Engine (one per worker thread) with that worker's ModelStore. Its
`analyze(ctx, extended)` returns a *partial face dict* that the pipeline deep-merges into the face
object, e.g. color -> {"skin": {"color": 2}}; with `extended` it may add {"extended": {"color": {...}}}.
Shared maps (model outputs used by several fields) are computed once per face through
`ctx.cached(key, fn)`; see edge/analysis/maps.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from edge.face.context import FaceContext
    from edge.runtime.manifest import ModelStore

# The seed's face_field names, in the seed's order.
FACE_FIELDS: tuple[str, ...] = (
    "color",
    "smooth",
    "acnespotmole",
    "wrinkle",
    "eyesattr",
    "blackheadpore",
    "skinface",
    "skinquality",
)


class Analyzer(Protocol):
    name: ClassVar[str]  # the face_field it answers
    models: ClassVar[tuple[str, ...]]  # manifest names of the models it needs

    def analyze(self, ctx: FaceContext, extended: bool = False) -> dict[str, Any]: ...


AnalyzerFactory = Callable[["ModelStore"], Analyzer]

_REGISTRY: dict[str, AnalyzerFactory] = {}


def register(name: str) -> Callable[[AnalyzerFactory], AnalyzerFactory]:
    """Class decorator: make an analyzer available for `face_field=name`."""
    if name not in FACE_FIELDS:
        raise ValueError(f"{name!r} is not a seed face_field")

    def deco(factory: AnalyzerFactory) -> AnalyzerFactory:
        _REGISTRY[name] = factory
        return factory

    return deco


def available_fields() -> dict[str, AnalyzerFactory]:
    """Every registered analyzer (importing edge.analysis registers the built-in ones)."""
    import edge.analysis  # noqa: F401  (side effect: registration)

    return dict(_REGISTRY)


def deep_merge(target: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = value
    return target
