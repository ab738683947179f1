"""Azure DevOps token exchanges (session tokens, PATs) and the pieces they share.

Each exchange builds and parses its payloads with pure functions and sends them
through `Http`; nothing here reads the configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .._log import fingerprint
from ..errors import ServiceError, TokenRefused

if TYPE_CHECKING:
    from ..http import HttpResponse

__all__ = [
    "IssuedToken",
    "format_valid_to",
    "json_body",
    "parse_valid_to",
    "refuse",
    "split_scopes",
]


@dataclass(frozen=True)
class IssuedToken:
    """A token Azure DevOps issued (session token or PAT); repr shows a fingerprint only."""

    token: str
    expires_at: int
    scopes: tuple[str, ...]
    authorization_id: str | None
    display_name: str

    def __repr__(self) -> str:
        return (
            f"IssuedToken({fingerprint(self.token)}, expires_at={self.expires_at}, "
            f"scopes={self.scopes!r}, authorization_id={self.authorization_id!r}, "
            f"display_name={self.display_name!r})"
        )


_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)


def parse_valid_to(value: object) -> int:
    """Epoch seconds from an Azure DevOps `validTo` (7-digit fractions, `Z` or offset, or none = UTC).

    Raises ValueError for anything else.
    """
    if not isinstance(value, str):
        raise ValueError("validTo is not a string")
    match = _ISO.match(value.strip())
    if not match:
        raise ValueError("validTo is not an ISO 8601 time")
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    zone = match.group(8)
    dt = datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone.utc)
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
        return int(dt.timestamp()) - offset
    return int(dt.timestamp())


def format_valid_to(valid_to: datetime) -> str:
    """ISO 8601 UTC with a `Z`, as the REST APIs expect (naive datetimes are taken as UTC)."""
    from .._text import iso_utc

    if valid_to.tzinfo is None:
        valid_to = valid_to.replace(tzinfo=timezone.utc)
    return iso_utc(valid_to.timestamp())


def split_scopes(value: object) -> tuple[str, ...]:
    """Scopes as a tuple from the service's space separated string."""
    return tuple(str(value).split()) if value else ()


def json_body(response: HttpResponse, what: str) -> dict[str, Any]:
    """The response's JSON object, or ServiceError naming `what` (never echoing the body)."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        ctype = response.headers.get("Content-Type", "unknown").split(";")[0]
        raise ServiceError(
            f"{what}: HTTP {response.status_code} with a non-JSON answer ({ctype}); "
            "is the token service URL right?"
        )
    return data


def refuse(response: HttpResponse, what: str, host: str) -> None:
    """Raise TokenRefused when the credential was refused (see `http.refused`) or is not
    allowed (403), and ServiceError for any other answer that is not a plain 2xx."""
    from ..http import refused

    status = response.status_code
    if refused(response) or status == 403:
        raise TokenRefused(
            f"{what}: {host} refused the Entra token (HTTP {status}); the signed-in identity "
            "needs access to this organization"
        )
    if not 200 <= status < 300 or status == 203:
        raise ServiceError(f"{what}: HTTP {status} from {host}{_type_key(response)}", status=status)


def _type_key(response: HttpResponse) -> str:
    """Azure DevOps' exception class name (`typeKey`), safe to show; its `message` is not echoed."""
    try:
        data = response.json()
    except ValueError:
        return ""
    key = data.get("typeKey") if isinstance(data, dict) else None
    if isinstance(key, str) and re.fullmatch(r"[A-Za-z0-9_.]{1,100}", key):
        return f" ({key})"
    return ""
