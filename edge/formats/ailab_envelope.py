"""The vendor family's envelope and error table (shared/contract-ailab.md): payload keys at the top
level next to `request_id`, `log_id`, `error_code` and `error_detail`; on failure HTTP status =
`error_code` = `error_detail.status_code`."""

from __future__ import annotations

import time
import uuid
from typing import Any

from edge.errors import ErrorKind, SkinKioskError

# code -> (HTTP status, the fixed code_message)
CODES: dict[str, tuple[int, str]] = {
    "MISSING_PARAMETERS": (400, "Missing required parameters."),
    "UNSUPPORTED_PARAMETER_VALUES": (400, "Unsupported parameter values."),
    "ERROR_INVALID_PARAMETER_FORMAT": (400, "Invalid parameter format."),
    "ERROR_USER_NOT_EXISTS": (401, "The API key is missing or not valid."),
    "FILE_SIZE_EXCEEDS_LIMIT": (413, "The file size exceeds the limit."),
    "FILE_RESOLUTION_EXCEEDS_LIMITS": (413, "The image resolution exceeds the limit."),
    "UNSUPPORTED_FILE_TYPES": (415, "Unsupported file type."),
    "FILE_DECODING_FAILURE": (422, "The file could not be decoded."),
    "ERROR_LOW_RESOLUTION": (422, "The image resolution is too low."),
    "ERROR_NO_FACE_IN_FILE": (422, "No face was found in the image."),
    "ERROR_FACE_SIZE_NOT_MEET_REQUIREMENTS": (422, "The face is too small."),
    "ERROR_POOR_FACE_QUALITY": (422, "The face quality is too poor."),
    "EXCEEDING_LIMITS": (429, "Request rate limit exceeded."),
    "PROCESSING_FAILURE": (500, "Processing failed."),
    "ERROR_INSUFFICIENT_RESOURCES": (503, "The service is busy, retry later."),
}

# our catalogue -> the vendor's code (the message keeps our detail)
CODE_OF_KIND = {
    ErrorKind.NO_IMAGE: "MISSING_PARAMETERS",
    ErrorKind.UNSUPPORTED_FORMAT: "UNSUPPORTED_FILE_TYPES",
    ErrorKind.FILE_TOO_LARGE: "FILE_SIZE_EXCEEDS_LIMIT",
    ErrorKind.IMAGE_TOO_LARGE: "FILE_RESOLUTION_EXCEEDS_LIMITS",
    ErrorKind.UNDECODABLE_IMAGE: "FILE_DECODING_FAILURE",
    ErrorKind.INVALID_PARAMETER: "UNSUPPORTED_PARAMETER_VALUES",
    ErrorKind.NO_FACE: "ERROR_NO_FACE_IN_FILE",
    ErrorKind.UNAUTHORIZED: "ERROR_USER_NOT_EXISTS",
    ErrorKind.RATE_LIMITED: "EXCEEDING_LIMITS",
    ErrorKind.BUSY: "ERROR_INSUFFICIENT_RESOURCES",
}
NO_FACE_MESSAGE = "pic not has face"  # the vendor's own message (contract)


class AilabError(Exception):
    def __init__(self, code: str, message: str = "") -> None:
        self.code, self.message = code, message or CODES[code][1]
        super().__init__(f"{code}: {self.message}")

    @property
    def status(self) -> int:
        return CODES[self.code][0]

    @classmethod
    def from_kiosk(cls, exc: SkinKioskError) -> AilabError:
        code = CODE_OF_KIND.get(exc.kind, "PROCESSING_FAILURE")
        return cls(code, NO_FACE_MESSAGE if code == "ERROR_NO_FACE_IN_FILE" else exc.error_msg)


def request_id() -> str:
    return f"{int(time.time())},{uuid.uuid4()}"


def success(payload: dict[str, Any]) -> dict[str, Any]:
    return {"request_id": request_id(), "log_id": uuid.uuid4().hex, "error_code": 0, "error_msg": "",
            "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""}, **payload}


def failure(err: AilabError) -> dict[str, Any]:
    return {"request_id": request_id(), "log_id": uuid.uuid4().hex, "error_code": err.status, "error_msg": err.message,
            "error_detail": {"status_code": err.status, "code": err.code, "code_message": CODES[err.code][1],
                             "message": err.message}}
