"""Who an Entra access token was issued to, read from its claims (never verified: the token is
only ever shown to its own services, and no claim read here grants anything).

Claim names are Microsoft's (Microsoft Learn, "Access token claims reference",
https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference):
`oid` the object id of the user or service principal, `tid` its tenant, `appid` (v1.0 tokens)
or `azp` (v2.0) the client application, `upn` / `unique_name` (v1.0) or `preferred_username`
(v2.0) the person's sign-in name, `scp` the delegated scopes (present only when a person is
signed in), `roles` the application permissions, and the optional `idtyp`, which is `app` in an
app-only token ("the most accurate way for an API to determine if a token is an app token").
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Optional

# What is kept with a cached secret and shown by `status` and `explain`: never the token.
IDENTITY_CLAIMS = ("oid", "appid", "tid", "upn")


def payload(token: str) -> Optional[dict[str, Any]]:
    """The claims of a compact JWT, or None for anything else (an opaque token, a PAT)."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1]:
        return None
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(raw.decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def is_app_only(claims: dict[str, Any]) -> bool:
    """True for a token an application holds on its own behalf (service principal, managed or
    workload identity, however it was obtained: a service principal signed in through `az` too)."""
    idtyp = claims.get("idtyp")
    if isinstance(idtyp, str):
        return idtyp.lower() == "app"
    return not claims.get("scp")


def identity(claims: dict[str, Any]) -> dict[str, str]:
    """The identity the token was issued to, as strings: oid, appid, tid, upn (those present)."""
    found = {
        "oid": claims.get("oid"),
        "appid": claims.get("appid") or claims.get("azp"),
        "tid": claims.get("tid"),
        "upn": claims.get("upn") or claims.get("preferred_username") or claims.get("unique_name"),
    }
    return {name: value for name, value in found.items() if isinstance(value, str) and value}


def describe(found: dict[str, str]) -> str:
    """One short phrase for a person: `alice@contoso.com`, or `app <appid>`; '-' when unknown."""
    if found.get("upn"):
        return found["upn"]
    if found.get("appid"):
        return f"app {found['appid']}"
    return found.get("oid") or "-"
