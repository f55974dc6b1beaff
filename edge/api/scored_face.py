"""The shape of a face the shop scores, checked once where it enters (POST /api/v1/shop/recommend and
/report with an `envelope`): every key edge/shop/concerns.py reads has the type it expects, every number
is finite (no NaN, no Infinity: JSON bodies may carry them). Keys the shop does not read are let through
untouched. A wrong key is a 400 naming it, never a 500 from deep inside a score.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]  # int or float, finite; not "1", not true
Whole = Annotated[int, Field(strict=True)]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _LesionItem(_Open):
    family: Annotated[str, Field(strict=True)] | None = None
    score: Number | None = None


class _ExtLesions(_Open):
    items: list[_LesionItem] | None = None


class _ExtWrinkle(_Open):
    length_mm: list[Number] = []
    depth_od: list[Number] = []
    zone: list[Annotated[str, Field(strict=True)]] = []

    @model_validator(mode="after")
    def _parallel(self) -> _ExtWrinkle:
        if not len(self.length_mm) == len(self.depth_od) == len(self.zone):
            raise ValueError("length_mm, depth_od and zone must be lists of one length (one entry per line)")
        return self


class _ExtPores(_Open):
    pore_counts: dict[str, Number] | None = None


class _DarkCircle(_Open):
    mean_od: Number | None = None


class _EyeBags(_Open):
    bag_columns: Number | None = None
    trough_columns: Number | None = None


class _ExtEyes(_Open):
    dark_circle_left: _DarkCircle | None = None
    dark_circle_right: _DarkCircle | None = None
    eye_bags_left: _EyeBags | None = None
    eye_bags_right: _EyeBags | None = None


class _Zone(_Open):
    shine: Number | None = None
    texture_pct: Number | None = None


class _Redness(_Open):
    spread: Number | None = None


class _ExtQuality(_Open):
    zones: dict[str, _Zone] | None = None
    redness: _Redness | None = None


class _ExtColor(_Open):
    brown_patch_share: Number | None = None


class _Extended(_Open):
    acnespotmole: _ExtLesions | None = None
    wrinkle: _ExtWrinkle | None = None
    blackheadpore: _ExtPores | None = None
    eyesattr: _ExtEyes | None = None
    skinquality: _ExtQuality | None = None
    color: _ExtColor | None = None


class _AcneEntry(_Open):
    type: Whole | None = None


class _Lesions(_Open):
    acne_list: list[_AcneEntry] = []
    mole_num: Number | None = None


class _Pores(_Open):
    pore_num: Number | None = None
    blackhead_num: Number | None = None


class _Eyes(_Open):
    dark_circle_left_type: list[Any] | None = None
    dark_circle_right_type: list[Any] | None = None
    eye_bags_left_type: list[Any] | None = None
    eye_bags_right_type: list[Any] | None = None


Grade = Annotated[str, Field(strict=True, pattern=r"^[012]$")]


class _Quality(_Open):
    skin_dryoil_check: list[Grade] | None = None
    skin_sensitive_check: list[Grade] | None = None


class _Skin(_Open):
    color: Whole | None = None


class ScoredFace(_Open):
    """The keys of one face object the concern scores and the skin profile read."""

    extended: _Extended | None = None
    acnespotmole: _Lesions | None = None
    blackheadpore: _Pores | None = None
    eyesattr: _Eyes | None = None
    skinquality: _Quality | None = None
    skin: _Skin | None = None


def face_problem(face: dict[str, Any]) -> str | None:
    """None when the shop can read `face`; else the first wrong key, dotted ('extended.wrinkle.length_mm:
    Input should be a valid list')."""
    try:
        ScoredFace.model_validate(face)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = first["msg"].removeprefix("Value error, ").split(" or instance of ")[0]  # no class names
        return f"{where}: {msg}" if where else msg
    return None
