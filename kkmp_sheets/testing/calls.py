"""A request as the fake's endpoints see it (``Call``), and what they answer (``Response``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .api_errors import ApiError
from .fake_state import FakeState


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(obj: Any, status: int = 200) -> Response:
    return Response(status, (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


@dataclass
class Call:
    """One routed request as endpoints see it."""

    app: FakeState
    method: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    identity: str
    groups: tuple[str, ...]

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def flag(self, name: str) -> bool:
        return (self.param(name) or "").lower() == "true"

    def json(self) -> dict[str, Any]:
        """The request body as a JSON object (``{}`` when empty); anything else is a 400."""
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except ValueError:
            raise ApiError(400, "Invalid JSON payload received. Unexpected token.") from None
        if not isinstance(value, dict):
            raise ApiError(400, "Invalid JSON payload received. Expected an object.")
        return value


Endpoint = Callable[[Call], Response]
