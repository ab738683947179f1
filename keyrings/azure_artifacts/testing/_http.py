"""Request/response values the route handlers work with, independent of http.server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl

from .records import AuthKind


@dataclass
class Request:
    """A parsed request plus what the handler learned about it, for the log."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names; repeated headers keep the last value
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    org: Optional[str] = None
    auth_kind: AuthKind = "anonymous"
    scopes: tuple[str, ...] = ()
    grant_type: Optional[str] = None
    client_id: Optional[str] = None
    secret_fingerprint: Optional[str] = None

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name.lower())

    def form(self) -> dict[str, str]:
        """The body as application/x-www-form-urlencoded (last value wins)."""
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not."""
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    """What a handler answers; the server adds Content-Length and writes it."""

    status: int
    body: bytes = b""
    content_type: Optional[str] = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, payload: Any, headers: Optional[list[tuple[str, str]]] = None) -> Response:
    return Response(status, json.dumps(payload).encode("utf-8"), headers=list(headers or []))


def html_response(status: int, text: str, headers: Optional[list[tuple[str, str]]] = None) -> Response:
    return Response(status, text.encode("utf-8"), "text/html; charset=utf-8", list(headers or []))


Handler = Callable[[Any, Request], Response]


@dataclass(frozen=True)
class Route:
    """One entry of the routing table: a name for the log and faults, a pattern, a handler."""

    name: str
    methods: frozenset[str]
    pattern: str
    handler: Handler
