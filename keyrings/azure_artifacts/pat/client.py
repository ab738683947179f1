"""Entra token -> personal access token (PAT lifecycle API): create, list, revoke.

POSTs here are never retried after the server may have acted (see http.py): a second
attempt could leave two PATs behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from .._log import fingerprint, get_logger
from ..errors import ServiceError, TokenRefused
from ..exchange import IssuedToken, format_valid_to, json_body, parse_valid_to, refuse, split_scopes

if TYPE_CHECKING:
    from ..http import Http

API_VERSION = "7.1-preview.1"
# patTokenError values that mean "this identity/organization may not do that", not an outage.
_AUTH_ERRORS = frozenset(
    {
        "accessdenied",
        "authorizationnotfound",
        "userid",
        "fullscopepatpolicyviolation",
        "globalpatpolicyviolation",
        "patlifespanpolicyviolation",
        "invalidclientid",
        "invalidclienttype",
        "invalidusertype",
        "durationnotsupported",
        "deploymentnotfound",
    }
)


def pats_url(vssps_url: str, **query: str) -> str:
    """The tokens/pats endpoint under a vssps base URL, with `api-version` and extra query."""
    extra = "".join(f"{k}={quote(v, safe='')}&" for k, v in query.items())
    return f"{vssps_url.rstrip('/')}/_apis/tokens/pats?{extra}api-version={API_VERSION}"


def build_pat_request(display_name: str, scopes: Sequence[str], valid_to: datetime) -> dict[str, Any]:
    """The PAT creation body: bound to one organization (`allOrgs: false`)."""
    return {
        "displayName": display_name,
        "scope": " ".join(scopes),
        "validTo": format_valid_to(valid_to),
        "allOrgs": False,
    }


def parse_pat(data: object, what: str, display_name: str = "") -> IssuedToken:
    """An IssuedToken from a `patToken` object (a missing token reads as "")."""
    if not isinstance(data, dict):
        raise ServiceError(f"{what}: the answer has no patToken")
    try:
        expires_at = parse_valid_to(data.get("validTo"))
    except ValueError:
        raise ServiceError(f"{what}: the answer has no usable validTo") from None
    auth_id = data.get("authorizationId")
    token = data.get("token")
    return IssuedToken(
        token=token if isinstance(token, str) else "",
        expires_at=expires_at,
        scopes=split_scopes(data.get("scope")),
        authorization_id=auth_id if isinstance(auth_id, str) else None,
        display_name=str(data.get("displayName") or display_name),
    )


def parse_pat_response(data: dict[str, Any], display_name: str, what: str) -> IssuedToken:
    """The created PAT, or the service's `patTokenError` as an error naming it."""
    error = data.get("patTokenError")
    if error is not None and str(error).lower() != "none":
        name = str(error)[:80]
        if name.lower() in _AUTH_ERRORS:
            raise TokenRefused(f"{what}: refused with patTokenError {name}")
        raise ServiceError(f"{what}: failed with patTokenError {name}")
    issued = parse_pat(data.get("patToken"), what, display_name)
    if not issued.token:
        raise ServiceError(f"{what}: the answer has no token")
    return issued


def _headers(entra_token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {entra_token}",
        "X-TFS-FedAuthRedirect": "Suppress",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


def create_pat(
    http: Http,
    vssps_url: str,
    entra_token: str,
    scopes: Sequence[str],
    valid_to: datetime,
    display_name: str,
) -> IssuedToken:
    """Create a PAT for one organization."""
    url = pats_url(vssps_url)
    host = urlsplit(url).netloc
    what = f"PAT from {host}"
    body = build_pat_request(display_name, scopes, valid_to)
    response = http.request("POST", url, headers=_headers(entra_token), json=body)
    if response.status_code == 400:
        # The lifecycle API reports its own errors as 400 + patTokenError: name that one.
        with contextlib.suppress(ValueError):
            data = response.json()
            if isinstance(data, dict) and data.get("patTokenError") not in (None, "none"):
                parse_pat_response(data, display_name, what)
    refuse(response, what, host)
    issued = parse_pat_response(json_body(response, what), display_name, what)
    get_logger().debug(
        "pat: created %s (authorization %s) on %s, expires_at=%d",
        fingerprint(issued.token),
        issued.authorization_id,
        host,
        issued.expires_at,
    )
    return issued


def revoke_pat(http: Http, vssps_url: str, entra_token: str, authorization_id: str) -> None:
    """Revoke a PAT by authorization id; one that is already gone (404) counts as revoked."""
    url = pats_url(vssps_url, authorizationId=authorization_id)
    host = urlsplit(url).netloc
    response = http.request("DELETE", url, headers=_headers(entra_token))
    if response.status_code == 404:
        get_logger().debug("pat: %s already gone on %s", authorization_id, host)
        return
    refuse(response, f"revoking PAT {authorization_id} on {host}", host)
    get_logger().debug("pat: revoked %s on %s", authorization_id, host)
