"""Just enough JWT for a test double: encode, split and decode without trusting.

Clients never verify the signature of an Entra access token, but they do split
it into three base64url parts and read the claims, so tokens must be well formed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of :func:`b64url`; tolerates missing padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_hs256(claims: dict[str, Any], key: bytes, kid: str = "fake") -> str:
    """A signed (HS256) compact JWT; the signature only makes tokens look real."""
    header = {"typ": "JWT", "alg": "HS256", "kid": kid}
    signing_input = _segment(header) + "." + _segment(claims)
    signature = hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes] | None:
    """Header, claims, signing input and signature of a compact JWT, or None if malformed."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return header, claims, (parts[0] + "." + parts[1]).encode("ascii"), signature


def _segment(obj: dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode("utf-8"))
