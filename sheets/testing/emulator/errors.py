"""The one error the emulator raises: a Google-shaped API error.

It carries the HTTP code, the message and the ``status`` word Google puts in
``{"error": {"code", "message", "status"}}``; the HTTP layer turns it into
that body.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "bad_request", "not_found"]

_STATUS_WORDS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """A call the Sheets API would refuse."""

    def __init__(self, code: int, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or _STATUS_WORDS.get(code, "UNKNOWN")

    def body(self) -> dict[str, Any]:
        """The JSON body Google sends with this error."""
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


def bad_request(message: str) -> ApiError:
    """A 400 INVALID_ARGUMENT."""
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    """A 404 NOT_FOUND."""
    return ApiError(404, message)
