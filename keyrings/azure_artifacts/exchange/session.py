"""Entra token -> Azure DevOps session token (narrow scopes, no PAT created, no e-mail sent)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._log import fingerprint, get_logger
from ..errors import ServiceError
from . import IssuedToken, format_valid_to, json_body, parse_valid_to, refuse, split_scopes

if TYPE_CHECKING:
    from ..http import Http

API_VERSION = "5.0-preview.1"
# Stated, not left to the server's default: `SelfDescribing` is a session token, `Compact` would
# be a PAT the user sees and is e-mailed about (artifacts-credprovider VstsSessionTokenClient.cs
# sends `tokenType={VstsTokenType}` the same way).
TOKEN_TYPE = "SelfDescribing"


def session_tokens_url(vssps_url: str) -> str:
    """The SessionTokens endpoint under a vssps base URL."""
    return (
        f"{vssps_url.rstrip('/')}/_apis/Token/SessionTokens?tokenType={TOKEN_TYPE}&api-version={API_VERSION}"
    )


def build_session_request(
    display_name: str, scopes: Sequence[str], valid_to: datetime | None
) -> dict[str, Any]:
    """The request body; `validTo` only when asked (the token type goes in the query)."""
    body: dict[str, Any] = {"displayName": display_name, "scope": " ".join(scopes)}
    if valid_to is not None:
        body["validTo"] = format_valid_to(valid_to)
    return body


def parse_session_response(data: dict[str, Any], display_name: str, what: str) -> IssuedToken:
    """An IssuedToken from the SessionTokens answer; ServiceError if it has no usable token."""
    token = data.get("token")
    if not isinstance(token, str) or not token:
        raise ServiceError(f"{what}: the answer has no token")
    try:
        expires_at = parse_valid_to(data.get("validTo"))
    except ValueError:
        raise ServiceError(f"{what}: the answer has no usable validTo") from None
    auth_id = data.get("authorizationId")
    return IssuedToken(
        token=token,
        expires_at=expires_at,
        scopes=split_scopes(data.get("scope")),
        authorization_id=auth_id if isinstance(auth_id, str) else None,
        display_name=str(data.get("displayName") or display_name),
    )


def create_session_token(
    http: Http,
    vssps_url: str,
    entra_token: str,
    scopes: Sequence[str],
    valid_to: datetime | None,
    display_name: str,
) -> IssuedToken:
    """Exchange an Entra token for a session token; retry once without validTo on HTTP 400."""
    log = get_logger()
    url = session_tokens_url(vssps_url)
    host = urlsplit(url).netloc
    what = f"session token from {host}"
    headers = {  # Http adds `X-TFS-FedAuthRedirect: Suppress`: a refusal is a 401, not a sign-in page
        "Authorization": f"Bearer {entra_token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    body = build_session_request(display_name, scopes, valid_to)
    response = http.request("POST", url, headers=headers, json=body)
    if response.status_code == 400 and "validTo" in body:
        log.debug("session: %s rejected validTo (HTTP 400); retrying without it", host)
        body = build_session_request(display_name, scopes, None)
        response = http.request("POST", url, headers=headers, json=body)
    refuse(response, what, host)
    issued = parse_session_response(json_body(response, what), display_name, what)
    log.debug(
        "session: issued %s for %s, scopes=%s, expires_at=%d",
        fingerprint(issued.token),
        host,
        " ".join(issued.scopes),
        issued.expires_at,
    )
    return issued
