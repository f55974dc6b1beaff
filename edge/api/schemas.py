"""Request and response models (they also make the OpenAPI document at /docs)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from edge.analysis.base import FACE_FIELDS

# --- the seed envelope --------------------------------------------------------------------------


class AnalyzeResult(BaseModel):
    face_num: int
    face_list: list[dict[str, Any]] = Field(description="Face objects in the seed's shape (shared/contract.md).")


class Envelope(BaseModel):
    """The seed's response envelope; `result` is null on error."""

    error_code: int = Field(description="0 on success, else a catalogue code (README, edge/errors.py).")
    error_msg: str
    log_id: int
    timestamp: int
    cached: int = Field(description="1 when served from the result cache.")
    result: AnalyzeResult | None


class AnalyzeJson(BaseModel):
    """The JSON body of the analyze endpoint (form and multipart fields have the same names)."""

    model_config = ConfigDict(extra="ignore")

    image: str | None = Field(None, description="Base64 image (a data: URL prefix is accepted). Wins over url.")
    url: str | None = Field(None, description="http/https image URL, at most 1024 bytes, public addresses only.")
    max_face_num: int | str | None = Field(None, description="1-10, default 1 (the largest face).")
    face_field: str | list[str] | None = Field(
        None, description=f"Comma-separated subset of {','.join(FACE_FIELDS)}, or 'all'."
    )
    extended: bool | int | str | None = Field(None, description="Add the `extended` object per face.")


# OpenAPI description of the body, which the handler parses by hand (three content types).
ANALYZE_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "image": {"type": "string", "format": "binary", "description": "Image file (or base64 text)."},
                "url": {"type": "string"}, "max_face_num": {"type": "integer"}, "face_field": {"type": "string"},
                "extended": {"type": "boolean"}}}},
            "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
                "image": {"type": "string", "description": "Base64 image."}, "url": {"type": "string"},
                "max_face_num": {"type": "integer"}, "face_field": {"type": "string"},
                "extended": {"type": "boolean"}}}},
            "application/json": {"schema": AnalyzeJson.model_json_schema()},
        },
    }
}

# --- health -------------------------------------------------------------------------------------


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    detail: str | None = None
    workers: int
    queue_size: int


class VersionInfo(BaseModel):
    name: str
    version: str
    fields: list[str] = Field(description="face_field names with an analyzer on this device.")


class FieldsInfo(BaseModel):
    available: list[str] = Field(description="face_field names this device can answer.")
    all: list[str] = Field(description="Every seed face_field name.")


# --- kiosk --------------------------------------------------------------------------------------


class KioskStatus(BaseModel):
    model_config = ConfigDict(extra="allow")

    frame_size: list[int]
    face: dict[str, float] | None
    guidance: str
    gate: str
    fps: float
    last_result_id: str | None


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    face_field: list[str] | None = Field(
        None, description="Fields to analyse; default: capture.analysis_fields, else every available one.")
    extended: bool = Field(True, description="Add 0-100 scores etc. for the result cards.")
    profile_id: str | None = Field(None, description="Record the visit in this diary profile.")
    track_changes: bool = Field(False, description="Keep the full result on the device (diary opt-in).")


class ScanResponse(BaseModel):
    result_id: str
    envelope: Envelope
    image_url: str = Field(description="The analysed frame as JPEG; face coordinates refer to its pixels.")
    image_width: int
    image_height: int
    fields: list[str]
    visit_id: str | None = None


class ForgetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_id: str | None = None
    keep_reports: bool = Field(
        False, description="Keep the take-home report links (the page's idle reset: they expire on their own).")


class ForgetResponse(BaseModel):
    cleared_scan: bool = Field(description="The last captured image and result were erased from memory.")
    deleted_profile: bool = Field(description="The diary profile and its visits were deleted.")
    deleted_reports: int = Field(0, description="Take-home report links erased.")
    diary_available: bool


# --- diary --------------------------------------------------------------------------------------


class ProfileCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pin: str | None = Field(None, description="Optional PIN (6-128 characters) to reopen the diary.")


class ProfileLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pin: str


class ProfileOut(BaseModel):
    profile_id: str
    created_at: float
    has_pin: bool


class VisitOut(BaseModel):
    visit_id: str
    taken_at: float
    summary: dict[str, Any]
    metrics: dict[str, float]


class HistoryOut(BaseModel):
    profile_id: str
    visits: list[VisitOut] = Field(description="Oldest first.")
    trends: dict[str, list[list[float]]] = Field(
        description="Per numeric metric (dotted path), [[taken_at, value], ...] oldest first.")


class DiaryStatus(BaseModel):
    available: bool


class DeleteOut(BaseModel):
    deleted: bool


# --- shop ---------------------------------------------------------------------------------------


class RecommendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result_id: str | None = Field(None, max_length=64, description=(
        "A kiosk scan: the result_id of POST /api/v1/kiosk/scan or GET /api/v1/kiosk/last (kept 5 minutes)."))
    envelope: dict[str, Any] | None = Field(None, description=(
        "Or an analyze response made with extended=true (its first face)."))
    profile_id: str | None = Field(None, max_length=64, description=(
        "A diary profile: adds each concern's change since its previous visit."))


class RecommendResponse(BaseModel):
    result_id: str | None
    scores_version: int = Field(description=(
        "Version of the concern scores (their definitions and full scales: edge/shop/concern_table.json); "
        "changes are computed only against visits scored with the same version."))
    catalogue: dict[str, Any]
    profile: dict[str, Any] = Field(description=(
        "Skin type, sensitivity grade, tone class, acne found today, acne found on an earlier visit of the "
        "diary profile (null without one), moles counted."))
    concerns: list[dict[str, Any]] = Field(description="Per concern: score 0-100 (null: not measured), where, measure.")
    ranked: list[dict[str, Any]] = Field(description="Products addressing a concern found, best first, each with a reason.")
    routine: list[dict[str, Any]] = Field(description="At most one product per step: cleanse, treat, moisturise, protect.")
    excluded: list[dict[str, Any]] = Field(description="Products never proposed to this person, with why.")
    changes: dict[str, Any] | None = Field(description=(
        "With a profile: {previous_visit_at, items: per concern before, now, delta, mdc95, verdict}; items is "
        "empty on a first visit."))


class CatalogueOut(BaseModel):
    version: str
    currency: str
    products: list[dict[str, Any]]


class CatalogueReplaced(BaseModel):
    products: int
    version: str


class ReportCreated(BaseModel):
    token: str
    url: str = Field(description="The link the QR code carries (shop.report_base_url, else this request's host).")
    path: str
    pdf_path: str
    expires_in_s: float
    expires_at: float
    qr_svg: str = Field(description="The QR code as an SVG data URI.")
    phone_reachable: bool = Field(description=(
        "False when the link is this device's own loopback (shop.report_base_url unset and the page loaded "
        "from 127.0.0.1): no phone can open it, and the page shows `note` instead of the QR code."))
    note: str | None = Field(None, description="What the kiosk's staff must set for phones to open the link.")


class PrivacyInfo(BaseModel):
    """What the kiosk keeps and for how long, from its configuration: the page's privacy notice."""

    photo_kept_s: float = Field(description="The captured photo and its result stay in memory at most this long.")
    report_kept_s: float | None = Field(description=(
        "A take-home report (with a picture of the face and its findings) lives this long (shop.report_ttl_s); "
        "null: no shop on this device."))
    take_home_link: bool = Field(description="A phone could open a take-home link made for this page.")
    take_home_note: str | None = Field(description="Why not, and what the staff must set.")
