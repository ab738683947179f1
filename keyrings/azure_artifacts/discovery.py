"""Tenant, authority and token-service URL from a feed's anonymous 401, checked before use.

Parsing and checking are pure; `discover` sends the one anonymous GET. What a 401
advertises is only trusted when its host is a known Entra ID / vssps host or one
the configuration names: a token must never be sent where a feed points us.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Union
from urllib.parse import urlsplit

from ._log import get_logger
from ._text import is_guid
from .cache import AgedStore
from .errors import AzureArtifactsError
from .microsoft import (
    ENTRA_HOSTS,
    FIRST_PARTY_TENANT,
    MSA_TENANT,
    NULL_TENANT,
    PERSONAL_ACCOUNTS_AUTHORITY,
    VSSPS_HOSTS,
    VSSPS_SUFFIXES,
)
from .urls import Origin, origin

if TYPE_CHECKING:
    from .http import Http, HttpResponse

Headers = Union[Mapping[str, str], Iterable[tuple[str, str]]]

_TENANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$")
# authorization_uri as an auth-param: at the start, or after whitespace/comma; quoted or token.
_AUTH_URI = re.compile(r'(?:^|[\s,])authorization_uri\s*=\s*(?:"([^"]*)"|([^\s,]+))', re.IGNORECASE)


@dataclass(frozen=True)
class Challenge:
    """What a feed's 401 told us; any part may be unknown (None)."""

    tenant: str | None = None
    authority_host: str | None = None
    vssps_url: str | None = None


def _header_values(headers: Headers, name: str) -> list[str]:
    """Every value of header `name`, whether given as a mapping or as (name, value) pairs."""
    items: Iterable[tuple[str, str]] = headers.items() if isinstance(headers, Mapping) else headers
    wanted = name.lower()
    return [str(v) for k, v in items if str(k).lower() == wanted]


def parse_challenge(headers: Headers) -> Challenge:
    """Read `X-VSS-ResourceTenant`, `WWW-Authenticate` (Bearer authorization_uri) and
    `X-VSS-AuthorizationEndpoint`; the explicit tenant header wins over the URI's tenant.
    The all-zero tenant (personal-account organizations) is kept: it is an answer too."""
    tenant: str | None = None
    zero = False  # the all-zero tenant was named: only used when no real tenant is
    for value in _header_values(headers, "X-VSS-ResourceTenant"):
        candidates = [p.strip().strip('"').lower() for p in value.split(",")]
        zero = zero or NULL_TENANT in candidates
        tenant = next((c for c in candidates if is_guid(c) and c != NULL_TENANT), None)
        if tenant:
            break

    authority_host: str | None = None
    uri_tenant: str | None = None
    for value in _header_values(headers, "WWW-Authenticate"):
        # A bare `Bearer` is a personal-account organization's (artifacts-credprovider AuthUtil:
        # "MSA-backed accounts don't expose a parameter"): the same answer as the all-zero tenant.
        zero = zero or value.strip().lower() == "bearer"
        match = _AUTH_URI.search(value)
        if not match:
            continue
        parts = urlsplit((match.group(1) or match.group(2) or "").strip())
        if not parts.scheme or not parts.hostname:
            continue
        authority_host = str(origin(parts.geturl()))
        segment = parts.path.strip("/").split("/")[0].lower()
        if _TENANT_NAME.match(segment) and segment != NULL_TENANT:
            uri_tenant = segment
        zero = zero or segment == NULL_TENANT
        break

    vssps_url: str | None = None
    for value in _header_values(headers, "X-VSS-AuthorizationEndpoint"):
        candidate = value.strip().strip('"')
        parts = urlsplit(candidate)
        if parts.scheme and parts.hostname:
            vssps_url = (str(origin(candidate)) + parts.path).rstrip("/")
            break

    return Challenge(tenant or uri_tenant or (NULL_TENANT if zero else None), authority_host, vssps_url)


def _allowed(where: Origin, allowed: Iterable[str]) -> bool:
    """`where` is one of the configured hosts (`host` or `host:port`; no port: https's 443)."""
    for entry in allowed:
        other = origin(entry)
        if other.host and other.host == where.host and other.port in (None, where.effective_port):
            return True
    return False


def is_entra_host(url: str, allowed_authority_hosts: Iterable[str] = ()) -> bool:
    """True for an https URL on a known Entra ID host or a configured authority host."""
    where = origin(url)
    if where.scheme != "https":
        return False
    if where.host in ENTRA_HOSTS and where.effective_port == 443:
        return True
    return _allowed(where, allowed_authority_hosts)


def is_vssps_host(url: str, allowed_vssps_hosts: Iterable[str] = ()) -> bool:
    """True for an https URL on a known token-service host (dot-boundary) or a configured host."""
    where = origin(url)
    if where.scheme != "https":
        return False
    host = where.host
    if where.effective_port == 443 and (
        host in VSSPS_HOSTS or any(host.endswith("." + s) for s in VSSPS_SUFFIXES)
    ):
        return True
    return _allowed(where, allowed_vssps_hosts)


def check_challenge(
    ch: Challenge, allowed_authority_hosts: Iterable[str], allowed_vssps_hosts: Iterable[str]
) -> Challenge:
    """Drop an authority or vssps URL that is not https on a known or configured host.

    The tenant is kept: it is only a name, and sign-in still goes to a trusted authority.
    """
    log = get_logger()
    authority, vssps = ch.authority_host, ch.vssps_url
    if authority is not None and not is_entra_host(authority, allowed_authority_hosts):
        log.debug("discovery: ignoring untrusted authority %s", authority)
        authority = None
    if vssps is not None and not is_vssps_host(vssps, allowed_vssps_hosts):
        log.debug("discovery: ignoring untrusted token service %s", vssps)
        vssps = None
    return Challenge(ch.tenant, authority, vssps)


def sign_in_tenant(tenant: str) -> str:
    """Where to sign in for an org's tenant: Microsoft-account orgs that report the MSA tenant
    use the first-party tenant; personal-account orgs (all-zero tenant) use `organizations`."""
    lowered = tenant.lower()
    if lowered == MSA_TENANT:
        return FIRST_PARTY_TENANT
    if lowered == NULL_TENANT:
        return PERSONAL_ACCOUNTS_AUTHORITY
    return tenant


def _response_headers(response: HttpResponse) -> list[tuple[str, str]]:
    """Response headers as pairs, keeping repeated headers apart where urllib3 kept them."""
    raw = getattr(getattr(response, "raw", None), "headers", None)
    if raw is not None and hasattr(raw, "getlist"):
        return [(str(name), str(v)) for name in raw for v in raw.getlist(name)]
    return [(str(k), str(v)) for k, v in response.headers.items()]


def discover(
    http: Http,
    feed_url: str,
    allowed_authority_hosts: Iterable[str] = (),
    allowed_vssps_hosts: Iterable[str] = (),
) -> Challenge:
    """One anonymous GET to the feed; whatever the status, read and check its challenge headers."""
    # Without `X-TFS-FedAuthRedirect: Suppress`: the anonymous request must see the real challenge.
    response = http.request("GET", feed_url, check=False, suppress_sign_in=False)
    get_logger().debug("discovery: %s answered %d", feed_url.split("?")[0], response.status_code)
    challenge = check_challenge(
        parse_challenge(_response_headers(response)), allowed_authority_hosts, allowed_vssps_hosts
    )
    get_logger().debug(
        "discovery: tenant=%s authority=%s vssps=%s",
        challenge.tenant,
        challenge.authority_host,
        challenge.vssps_url,
    )
    return challenge


class DiscoveryCache:
    """Per-org discovery results in one JSON file, so the 401 round trip happens once a week."""

    FILE_NAME = "discovery.json"

    def __init__(
        self, directory: Path, ttl: int = 7 * 24 * 3600, now: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(directory) / self.FILE_NAME
        self._store = AgedStore(self.path, ttl, now)

    def get(self, org_key: str) -> Challenge | None:
        """The stored challenge for `org_key` if younger than the TTL."""
        entry = self._store.get(org_key.lower())
        if entry is None:
            return None
        fields = [entry.get(k) for k in ("tenant", "authority_host", "vssps_url")]
        if not all(v is None or isinstance(v, str) for v in fields) or not fields[0]:
            return None  # an entry without a tenant (written by an older version) is not trusted
        return Challenge(*fields)

    def put(self, org_key: str, ch: Challenge) -> bool:
        """Remember a (checked) challenge for `org_key`; expired entries are pruned on the way.

        A challenge that named no tenant is not stored (False): the next lookup asks again,
        rather than signing everyone in without a tenant for a week (a proxy that stripped the
        headers, a public feed, a network error).
        """
        if not ch.tenant:
            get_logger().debug("discovery: no tenant found for %s; not cached", org_key)
            return False
        self._store.put(
            org_key.lower(),
            {"tenant": ch.tenant, "authority_host": ch.authority_host, "vssps_url": ch.vssps_url},
        )
        return True


# -- the authority decision: pinned by the configuration, else discovered once per org ------------


@dataclass(frozen=True)
class Authority:
    """Where to sign in and which token service to ask, and how that was decided."""

    tenant: str | None
    authority_host: str
    vssps_url: str
    how: str  # "pinned", "discovered", "cached" or "unknown"


def org_key(host: str, org: str) -> str:
    return f"{host}/{org}".lower()


def trusted_hosts(*urls: str, feed_host: str | None = None) -> set[str]:
    """Hosts a 401 may name beyond the known Entra / vssps ones: the URLs configured for this feed
    and, for the token service of a configured host (Azure DevOps Server), that host itself. Other
    hosts of the configuration are not trusted: they would receive this host's credentials."""
    # With the port always written: a bare `host` entry matches any port (`_allowed`), and a
    # 401 naming `login.corp:9443` for a configured `https://login.corp` must not pass.
    found = [origin(u, default_scheme="https") for u in urls if u]
    if feed_host:
        found.append(origin(feed_host, default_scheme="https"))
    return {f"{f'[{o.host}]' if ':' in o.host else o.host}:{o.effective_port}" for o in found if o.host}


def decide_authority(
    *,
    host: str,
    org: str,
    feed_url: str,
    tenant: str | None,
    authority_host: str,
    authority_pinned: bool,
    vssps_url: str,
    vssps_pinned: bool,
    configured_host: bool,
    http: Callable[[], Http],
    state: Path,
) -> Authority:
    """A pinned tenant costs no request; otherwise the feed's anonymous 401 is asked once per org
    and kept. Configured URLs always win over what a challenge advertises."""
    log = get_logger()
    if tenant:
        log.debug("tenant %s pinned: no discovery", tenant)
        return Authority(sign_in_tenant(tenant), authority_host, vssps_url, "pinned")
    cache = DiscoveryCache(state)
    key = org_key(host, org)
    challenge = cache.get(key)
    how = "cached"
    if challenge is None:
        how = "discovered"
        try:
            challenge = discover(
                http(),
                feed_url,
                trusted_hosts(authority_host),
                trusted_hosts(vssps_url, feed_host=host if configured_host else None),
            )
        except AzureArtifactsError as exc:
            from ._log import one_line

            log.debug("discovery failed (%s): signing in without a tenant", one_line(exc))
            challenge = Challenge(None, None, None)
        else:
            try:
                cache.put(key, challenge)
            except OSError as exc:
                log.debug("discovery not cached: %s", exc.__class__.__name__)
    else:
        log.debug("discovery: cached for %s (tenant %s)", key, challenge.tenant)
    if challenge.authority_host and not authority_pinned:
        authority_host = challenge.authority_host
    if challenge.vssps_url and not vssps_pinned:
        vssps_url = challenge.vssps_url.rstrip("/")
    if not challenge.tenant:
        how = "unknown"
    return Authority(
        sign_in_tenant(challenge.tenant) if challenge.tenant else None, authority_host, vssps_url, how
    )


def describe_authority(host: str, org: str, tenant_source: str | None, state: Path) -> str:
    """For `explain`: where the tenant comes from, without any request."""
    if tenant_source:
        return f"tenant pinned by [{tenant_source}]: no discovery request"
    found = DiscoveryCache(state).get(org_key(host, org))
    if found is None:
        return "not discovered yet: the first lookup asks the feed once (its anonymous 401)"
    return (
        f"tenant {found.tenant or '-'}, token service {found.vssps_url or '-'} (from the feed's 401, cached)"
    )
