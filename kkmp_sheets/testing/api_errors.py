"""Errors in the shapes Google's APIs answer with.

Sheets v4 (like every Google "one platform" API) answers ``{"error": {"code", "message",
"status", "details"?}}``; Drive v3 answers ``{"error": {"code", "message", "errors": [...]}}``.
The messages here are the ones recorded from real traffic where a recording exists.
"""

from __future__ import annotations

from typing import Any

STATUS_BY_CODE = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: (
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project."
    ),
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    409: "The operation was aborted.",
    429: "Resource has been exhausted (e.g. check quota).",
    500: "Internal error encountered.",
    501: "Method not implemented.",
    503: "The service is currently unavailable.",
    504: "The service is currently unavailable.",
}

DRIVE_REASONS = {
    400: "badRequest",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    429: "rateLimitExceeded",
    500: "internalError",
    501: "notImplemented",
    503: "backendError",
}

HTML_502 = (
    "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 502 (Server Error)!!1"
    "</title>\n  <p><b>502.</b> <ins>That's an error.</ins>\n  <p>The server encountered a "
    "temporary error and could not complete your request.<p>Please try again in 30 seconds.  "
    "<ins>That's all we know.</ins>\n"
)


class ApiError(Exception):
    """An API failure; ``body(api)`` renders it for the Sheets or the Drive API."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        status: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        reason: str | None = None,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
    ) -> None:
        self.code = code
        self.message = message if message is not None else DEFAULT_MESSAGES.get(code, "Error")
        self.status = status or STATUS_BY_CODE.get(code, "UNKNOWN")
        self.details = details
        self.reason = reason
        self.domain = domain
        self.location = location
        self.location_type = location_type
        super().__init__(f"{code} {self.status}: {self.message}")

    def body(self, api: str) -> dict[str, Any]:
        if api == "drive":
            item: dict[str, Any] = {
                "message": self.message,
                "domain": self.domain,
                "reason": self.reason or DRIVE_REASONS.get(self.code, "error"),
            }
            if self.location:
                item["location"] = self.location
                item["locationType"] = self.location_type or "parameter"
            return {"error": {"code": self.code, "message": self.message, "errors": [item]}}
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def invalid(message: str) -> ApiError:
    return ApiError(400, message)


def bad_field(field: str, value: Any, proto: str = "google.protobuf.ListValue") -> ApiError:
    """A request body value of the wrong JSON type, e.g. ``"values": "X"``."""
    shown = value if isinstance(value, str) else repr(value)
    message = f"Invalid value at '{field}' (type.googleapis.com/{proto}), \"{shown}\""
    return ApiError(
        400,
        message,
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field, "description": message}],
            }
        ],
    )


# Google's front end refuses a request body over 10 MiB before any API looks at it: HTTP 400,
# reason badRequest, this message (as clients report it, e.g. psgsuite issue #62).
MAX_PAYLOAD_BYTES = 10_485_760


def payload_too_large() -> ApiError:
    return ApiError(400, f"Request payload size exceeds the limit: {MAX_PAYLOAD_BYTES} bytes.")


def not_found() -> ApiError:
    return ApiError(404)


def permission_denied() -> ApiError:
    return ApiError(403)


def not_supported_document() -> ApiError:
    return ApiError(400, "This operation is not supported for this document", "FAILED_PRECONDITION")


def unimplemented(what: str) -> ApiError:
    return ApiError(501, f"{what} is not implemented by the local fake of the Google APIs.")


def drive_file_not_found(file_id: str) -> ApiError:
    return ApiError(404, f"File not found: {file_id}.", reason="notFound", location="fileId")


def drive_insufficient_permissions() -> ApiError:
    return ApiError(
        403,
        "The user does not have sufficient permissions for this file.",
        reason="insufficientFilePermissions",
    )


def drive_invalid(message: str, location: str) -> ApiError:
    return ApiError(400, message, reason="invalid", location=location)


def quota_exceeded(kind: str, per_user: bool, limit: int, project_number: str) -> ApiError:
    """Google's 429 for the Sheets per-minute quotas (``kind`` is ``Read`` or ``Write``)."""
    scope = "per minute per user" if per_user else "per minute"
    limit_name = f"{kind}RequestsPerMinute{'PerUser' if per_user else ''}"
    message = (
        f"Quota exceeded for quota metric '{kind} requests' and limit '{kind} requests {scope}' "
        f"of service 'sheets.googleapis.com' for consumer 'project_number:{project_number}'."
    )
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "RATE_LIMIT_EXCEEDED",
            "domain": "googleapis.com",
            "metadata": {
                "quota_location": "global",
                "quota_metric": f"sheets.googleapis.com/{kind.lower()}_requests",
                "quota_limit": limit_name,
                "quota_limit_value": str(limit),
                "consumer": f"projects/{project_number}",
                "service": "sheets.googleapis.com",
            },
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [
                {
                    "description": "Request a higher quota limit.",
                    "url": "https://cloud.google.com/docs/quotas/help/request_increase",
                }
            ],
        },
    ]
    return ApiError(429, message, details=details)


def drive_rate_limited() -> ApiError:
    return ApiError(
        403,
        "User rate limit exceeded.",
        reason="userRateLimitExceeded",
        domain="usageLimits",
    )
