"""The committed concern table (edge/shop/concern_table.json, written by scripts/concern_repeatability.py
on the valid split): each concern's full scale (the level that reads 100) and its minimal detectable
change (MDC95), with how they were made. The caller reads the file and hands its data to `parse_table`;
the product reads only this table, never the data it was made from.

    table = parse_table(json.loads(path.read_text()))
    concern_scores(face, table.full); changes(before, now, table.mdc); visit stored with table.version
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge.shop.concerns import DEFINITIONS_VERSION, FOUND
from edge.shop.vocabulary import CONCERNS

TABLE_NAME = "concern_table.json"  # beside this module; scripts/concern_repeatability.py rewrites it


class TableError(ValueError):
    """The table cannot be used (the message says which key and why)."""


@dataclass(frozen=True)
class ConcernTable:
    full: dict[str, float]  # concern -> the measurement that reads 100 (concerns.FULL_SCALE_RULE)
    mdc: dict[str, float]  # concern -> MDC95 in score points
    version: int  # of the scores (definitions and scales): kept with each visit, compared like with like


def _finite(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TableError(f"{where}: must be a finite number, got {value!r}")
    return float(value)


def _entry(part: Mapping[str, Any], concern: str) -> Mapping[str, Any]:
    value = part.get(concern)
    return value if isinstance(value, Mapping) else {}


def parse_table(data: Any) -> ConcernTable:
    """The scales, MDCs and scores version of the table's JSON data; TableError names what is wrong."""
    if not isinstance(data, Mapping):
        raise TableError("the table must be a JSON object")
    if data.get("definitions_version") != DEFINITIONS_VERSION:
        raise TableError(f"definitions_version {data.get('definitions_version')!r}: made for other concern "
                         f"definitions than these ({DEFINITIONS_VERSION}); re-run scripts/concern_repeatability.py")
    version = data.get("scores_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise TableError(f"scores_version: must be a whole number >= 1, got {version!r}")
    scales, concerns = data.get("full_scales"), data.get("concerns")
    if not isinstance(scales, Mapping) or not isinstance(concerns, Mapping):
        raise TableError("full_scales and concerns must be objects keyed by concern")
    full: dict[str, float] = {}
    mdc: dict[str, float] = {}
    for c in CONCERNS:
        scale = _finite(_entry(scales, c).get("full"), f"full_scales.{c}.full")
        if scale <= FOUND[c]:
            raise TableError(f"full_scales.{c}.full: {scale} is not above where it is found ({FOUND[c]})")
        change = _finite(_entry(concerns, c).get("mdc95"), f"concerns.{c}.mdc95")
        if change < 0:
            raise TableError(f"concerns.{c}.mdc95: {change} is negative")
        full[c], mdc[c] = scale, change
    return ConcernTable(full, mdc, version)
