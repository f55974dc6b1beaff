"""The error catalogue: one code, message and HTTP status per failure, shared by CLI, REST and UI.

Codes are stable and documented in README.md; `error_msg` is the catalogue message, optionally
followed by ": <detail>" (e.g. which parameter was invalid).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class ErrorSpec:
    code: int
    message: str
    http_status: int


class ErrorKind(Enum):
    NO_IMAGE = ErrorSpec(1001, "no image given: send `image` (file or base64) or `url`", 400)
    UNSUPPORTED_FORMAT = ErrorSpec(1002, "unsupported image format: JPG, PNG or BMP only", 415)
    FILE_TOO_LARGE = ErrorSpec(1003, "image file too large: at most 8 MB", 413)
    IMAGE_TOO_LARGE = ErrorSpec(1004, "image dimensions too large", 413)
    UNDECODABLE_IMAGE = ErrorSpec(1005, "image could not be decoded", 400)
    INVALID_PARAMETER = ErrorSpec(1006, "invalid parameter", 400)
    NO_FACE = ErrorSpec(1007, "no face found in the image", 422)
    FIELD_NOT_AVAILABLE = ErrorSpec(1008, "requested face_field is not available on this device", 501)
    # URL fetching (REST only).
    URL_INVALID = ErrorSpec(1101, "invalid image url: http/https, at most 1024 bytes", 400)
    URL_FORBIDDEN = ErrorSpec(1102, "image url resolves to a non-public address", 403)
    URL_FETCH_FAILED = ErrorSpec(1103, "image url could not be fetched", 502)
    # Access control and load (REST only).
    UNAUTHORIZED = ErrorSpec(1201, "missing or invalid API key", 401)
    RATE_LIMITED = ErrorSpec(1202, "rate limit exceeded for this API key", 429)
    BUSY = ErrorSpec(1203, "device busy: analysis queue full, retry later", 503)
    NOT_FOUND = ErrorSpec(1204, "not found", 404)
    FORBIDDEN = ErrorSpec(1205, "forbidden", 403)
    GONE = ErrorSpec(1206, "gone: expired or deleted", 410)
    # The shop (catalogue, recommendations, take-home report).
    CATALOGUE_INVALID = ErrorSpec(1301, "invalid catalogue", 422)
    SHOP_UNAVAILABLE = ErrorSpec(1302, "the shop is not available on this device", 503)
    CATALOGUE_TOO_LARGE = ErrorSpec(1303, "catalogue file too large", 413)
    INTERNAL_ERROR = ErrorSpec(500, "internal error", 500)

    @property
    def code(self) -> int:
        return self.value.code

    @property
    def message(self) -> str:
        return self.value.message

    @property
    def http_status(self) -> int:
        return self.value.http_status


class SkinKioskError(Exception):
    """The one exception type carrying a catalogue entry and an optional detail."""

    def __init__(self, kind: ErrorKind, detail: str | None = None) -> None:
        self.kind = kind
        self.detail = detail
        super().__init__(self.error_msg)

    @property
    def error_code(self) -> int:
        return self.kind.code

    @property
    def error_msg(self) -> str:
        return f"{self.kind.message}: {self.detail}" if self.detail else self.kind.message

    @property
    def http_status(self) -> int:
        return self.kind.http_status
