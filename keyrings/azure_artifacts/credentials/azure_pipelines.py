"""`azure_pipelines`: credentials the Azure Pipelines authenticate tasks leave in the environment.

Two sources, both returned as they are (no exchange, no network):
- `ARTIFACTS_CREDENTIALPROVIDER_EXTERNAL_FEED_ENDPOINTS` / `VSS_NUGET_EXTERNAL_FEED_ENDPOINTS`:
  JSON `{"endpointCredentials": [{"endpoint", "username", "password"}]}`. An endpoint applies
  when it is a case-insensitive prefix of the requested URL; the longest one wins.
- `VSS_NUGET_ACCESSTOKEN` (else `SYSTEM_ACCESSTOKEN`) for URLs under one of the
  semicolon-separated `VSS_NUGET_URI_PREFIXES`; without prefixes the token goes nowhere.

Like Microsoft's credential provider we compare prefixes case-insensitively, but a prefix
must end on a boundary (`/`, `?`, `#`, `@` or the end of the URL) so that an endpoint for
`.../contoso` is never sent to `.../contoso-evil` or to `pkgs.dev.azure.com.evil.io`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .._log import get_logger
from ..errors import CredentialUnavailable
from ._util import env_value
from .base import AccessToken, FlowOptions

ENDPOINT_VARIABLES = (
    "ARTIFACTS_CREDENTIALPROVIDER_EXTERNAL_FEED_ENDPOINTS",
    "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS",
)
TOKEN_VARIABLES = ("VSS_NUGET_ACCESSTOKEN", "SYSTEM_ACCESSTOKEN")
PREFIXES_VARIABLE = "VSS_NUGET_URI_PREFIXES"
# What the build-task token is sent with by Microsoft's provider; Azure DevOps ignores it anyway.
TOKEN_USERNAME = "VssSessionToken"
# A job's token lives as long as the job; pass-through secrets are not cached, so this is nominal.
ASSUMED_LIFETIME = 3600
_BOUNDARY = "/?#@"


@dataclass(frozen=True)
class Endpoint:
    """One entry of `endpointCredentials`; the password never appears in a repr."""

    endpoint: str
    username: str | None
    password: str = field(repr=False)
    source: str = ""  # the variable it came from


def normalize_url(url: str) -> str:
    """Lower-case `scheme://host[:port]/path` without userinfo, default port, query or fragment."""
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != {"https": 443, "http": 80}.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path}".lower()


def under_prefix(url: str, prefix: str) -> bool:
    """True when `prefix` starts `url` (both normalized) and ends on a boundary."""
    if not prefix or not url.startswith(prefix):
        return False
    return len(url) == len(prefix) or prefix[-1] in _BOUNDARY or url[len(prefix)] in _BOUNDARY


def parse_endpoints(text: str, source: str) -> list[Endpoint]:
    """The endpoint credentials in one variable's JSON; ValueError naming what is wrong (no values)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{source} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(document, dict):
        raise ValueError(f"{source} must be a JSON object with 'endpointCredentials'")
    # The tasks write `endpointCredentials`; accept any capitalisation as .NET's deserializer does.
    entries = next((v for k, v in document.items() if k.lower() == "endpointcredentials"), None)
    if not isinstance(entries, list):
        raise ValueError(f"{source}: 'endpointCredentials' must be a list")
    endpoints = []
    for index, entry in enumerate(entries):
        where = f"{source}: endpointCredentials[{index}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be an object")
        fields = {k.lower(): v for k, v in entry.items()}
        endpoint, username, password = fields.get("endpoint"), fields.get("username"), fields.get("password")
        if not isinstance(endpoint, str) or not endpoint.strip():
            raise ValueError(f"{where}: 'endpoint' is missing or not a string")
        if not isinstance(password, str) or not password:
            raise ValueError(f"{where}: 'password' is missing or not a string")
        if username is not None and not isinstance(username, str):
            raise ValueError(f"{where}: 'username' is not a string")
        endpoints.append(Endpoint(endpoint.strip(), username or None, password, source))
    return endpoints


def best_endpoint(endpoints: Iterable[Endpoint], url: str) -> Endpoint | None:
    """The endpoint with the longest prefix of `url`; the first listed wins a tie."""
    wanted = normalize_url(url)
    best: Endpoint | None = None
    best_length = -1
    for candidate in endpoints:
        prefix = normalize_url(candidate.endpoint)
        if under_prefix(wanted, prefix) and len(prefix) > best_length:
            best, best_length = candidate, len(prefix)
    return best


def uri_prefixes(text: str) -> list[str]:
    """`VSS_NUGET_URI_PREFIXES`: semicolon-separated, blanks ignored."""
    return [p.strip() for p in text.split(";") if p.strip()]


def token_applies(prefixes: Sequence[str], url: str) -> bool:
    wanted = normalize_url(url)
    return any(under_prefix(wanted, normalize_url(prefix)) for prefix in prefixes)


def _display(url: str) -> str:
    """host/path of the requested URL, for messages (no userinfo, no scheme)."""
    return normalize_url(url).split("://", 1)[1] if url else "<no URL>"


@dataclass(frozen=True)
class _Found:
    token: AccessToken | None
    reasons: tuple[str, ...]


def find(environ: Mapping[str, str], url: str, now: float) -> _Found:
    """Pure: the credential for `url` from the pipeline variables, or why there is none."""
    reasons: list[str] = []
    endpoints: list[Endpoint] = []
    for name in ENDPOINT_VARIABLES:
        text = env_value(environ, name)
        if text is None:
            continue
        try:
            endpoints.extend(parse_endpoints(text, name))
        except ValueError as exc:
            reasons.append(str(exc))
    expires = int(now) + ASSUMED_LIFETIME
    match = best_endpoint(endpoints, url) if url else None
    if match is not None:
        return _Found(AccessToken(match.password, expires, match.username), ())
    if endpoints:
        reasons.append(f"no endpoint for {_display(url)}")
    token_name = next((n for n in TOKEN_VARIABLES if env_value(environ, n)), None)
    if token_name is not None:
        prefixes = uri_prefixes(env_value(environ, PREFIXES_VARIABLE) or "")
        if not prefixes:
            reasons.append(f"{token_name} is set but {PREFIXES_VARIABLE} is not")
        elif url and token_applies(prefixes, url):
            return _Found(AccessToken(environ[token_name].strip(), expires, TOKEN_USERNAME), ())
        else:
            reasons.append(f"{_display(url)} is not under {PREFIXES_VARIABLE}")
    if not reasons:
        reasons.append("no Azure Pipelines variables are set")
    return _Found(None, tuple(reasons))


def configured(environ: Mapping[str, str]) -> bool:
    """Whether the pipeline variables are there at all (`auto` then tries this flow first)."""
    if any(env_value(environ, name) for name in (*ENDPOINT_VARIABLES, "VSS_NUGET_ACCESSTOKEN")):
        return True
    return bool(env_value(environ, "SYSTEM_ACCESSTOKEN") and env_value(environ, PREFIXES_VARIABLE))


def unavailable_reason(options: FlowOptions) -> str | None:
    """Why no pipeline credential applies to `options.service_url` (pure: no I/O)."""
    found = find(options.environ, options.service_url, time.time())
    return None if found.token is not None else "; ".join(found.reasons)


class AzurePipelinesFlow:
    """Only ever returns a credential whose endpoint or prefix covers the requested URL."""

    name = "azure_pipelines"

    def __init__(self, options: FlowOptions) -> None:
        self.options = options

    def get_token(self, scope: str) -> AccessToken:
        found = find(self.options.environ, self.options.service_url, time.time())
        if found.token is None:
            raise CredentialUnavailable("; ".join(found.reasons))
        get_logger().debug("azure_pipelines: credential for %s", _display(self.options.service_url))
        return found.token
