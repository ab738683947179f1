"""The egress gate: the origins a lookup may send a credential to, decided once per lookup.

`for_lookup` builds the set from trusted inputs only: the feed's own origin, the configured
or default Entra authority and token service (a name from the URL never builds a host here),
Microsoft's own Entra ID and token-service hosts, the managed-identity endpoint and the
Azure Pipelines / GitHub OIDC URLs the process environment names. What a feed's 401 or a
cached discovery answer says is never added: it is checked against the set like any other
destination. `Http` (and the transports handed to msal and azure-identity) call `check`
for every request and every redirect hop, so nothing else can send a credential.

Pure and stdlib-only: it runs on the cold path and costs microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Optional

from .errors import EgressRefused
from .hostnames import in_domain
from .microsoft import ENTRA_HOSTS, PUBLIC_AUTHORITY_HOST, VSSPS_HOSTS, VSSPS_SUFFIXES
from .urls import expand_vssps, origin

Key = tuple[str, str, Optional[int]]  # scheme, host, effective port

# Headers whose value is a credential or proves an identity (managed identity: X-IDENTITY-HEADER
# on App Service, `secret` on Service Fabric and Azure ML, `Metadata` on IMDS and Cloud Shell).
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-identity-header", "secret", "metadata"}
)
# Azure DevOps Services hosts (feeds, token service, sign-in pages), matched on a dot boundary.
DEVOPS_DOMAINS = ("dev.azure.com", "visualstudio.com", "codedev.ms", "codeapp.ms", "vsts.me")
# Where the managed-identity flows send their identity header (read by msal and azure-identity).
IDENTITY_ENDPOINT_VARIABLES = (
    "IDENTITY_ENDPOINT",
    "MSI_ENDPOINT",
    "IMDS_ENDPOINT",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
)
IMDS_URL = "http://169.254.169.254"
# Federated-token sources that take a bearer of their own (Azure Pipelines, GitHub Actions).
OIDC_VARIABLES = ("SYSTEM_OIDCREQUESTURI", "ACTIONS_ID_TOKEN_REQUEST_URL")


def key(url: str, default_scheme: str = "") -> Key:
    where = origin(url, default_scheme=default_scheme)
    return where.scheme, where.host, where.effective_port


def carries_credential(headers: Optional[Mapping[str, Any]], body: Any = None) -> bool:
    """A secret header, or any body: token requests carry a client secret, an assertion, a
    refresh token or a code there, and reading which one is not worth the risk of missing one."""
    if body:
        return True
    return any(str(name).lower() in SECRET_HEADERS for name in headers or ())


def microsoft_host(where: Key) -> bool:
    """An Entra ID authority or an Azure DevOps token service of Microsoft's, https on 443."""
    scheme, host, port = where
    if scheme != "https" or port != 443:
        return False
    if host in ENTRA_HOSTS or host in VSSPS_HOSTS:
        return True
    return any(host.endswith("." + suffix) for suffix in VSSPS_SUFFIXES)


def devops_host(host: str) -> bool:
    return any(in_domain(host, domain) for domain in DEVOPS_DOMAINS)


@dataclass(frozen=True)
class Egress:
    """Where this lookup's credentials may go. Immutable: built once, shared by every request."""

    origins: frozenset[Key] = frozenset()  # exact origins (https, or a managed-identity endpoint)
    microsoft: bool = False  # Microsoft's Entra ID and token-service hosts too
    devops: frozenset[Key] = frozenset()  # the feed and token-service origins (Azure DevOps)
    static_http: Optional[Key] = None  # a plain-http feed its section allows: static credentials only

    @classmethod
    def to(cls, *urls: str) -> Egress:
        """Exactly these origins (tests, tools)."""
        keys = frozenset(key(u) for u in urls)
        return cls(origins=keys, devops=keys)

    def allows(self, url: str, *, static: bool = False) -> bool:
        where = key(url)
        if where in self.origins or (self.microsoft and microsoft_host(where)):
            return True
        return static and where == self.static_http

    def check(
        self, url: str, headers: Optional[Mapping[str, Any]], body: Any = None, *, static: bool = False
    ) -> None:
        """Raise EgressRefused when a credential-bearing request would leave for another origin."""
        if carries_credential(headers, body) and not self.allows(url, static=static):
            raise refusal(url)

    def is_devops(self, url: str) -> bool:
        """Azure DevOps answers here: the request gets `X-TFS-FedAuthRedirect: Suppress`."""
        where = key(url)
        return where in self.devops or devops_host(where[1])


def refusal(url: str) -> EgressRefused:
    where = origin(url)
    return EgressRefused(
        f"refused to send a credential to {where.netloc or '<no host>'}: not the feed, its token "
        "service, the sign-in authority or an endpoint this lookup may use (if that host is yours, "
        "name it as authority_host or vssps_url in the feed's section)"
    )


def check(
    egress: Optional[Egress], url: str, headers: Any, body: Any = None, *, static: bool = False
) -> None:
    """The gate for a request that has no lookup's egress (`None`): no credential may leave."""
    if egress is not None:
        egress.check(url, headers, body, static=static)
    elif carries_credential(headers, body):
        raise refusal(url)


def _https_origin(url: Optional[str]) -> Optional[Key]:
    if not url or not url.strip():
        return None
    where = key(url.strip(), default_scheme="https")
    return where if where[0] == "https" and where[1] else None


def _environment(environ: Mapping[str, str], allow_imds: bool) -> set[Key]:
    """Endpoints the process environment names for managed identity and federated tokens."""
    found: set[Key] = set()
    for name in IDENTITY_ENDPOINT_VARIABLES:
        value = (environ.get(name) or "").strip()
        if value:
            where = key(value, default_scheme="http")
            if where[0] in ("http", "https") and where[1]:
                found.add(where)
    if allow_imds:
        found.add(key(IMDS_URL))
    for name in (*OIDC_VARIABLES, "AZURE_AUTHORITY_HOST"):
        named = _https_origin(environ.get(name))
        if named is not None:
            found.add(named)
    return found


def for_flow(authority_host: str, environ: Mapping[str, str], allow_imds: bool) -> Egress:
    """A credential flow run on its own (not in a lookup): its authority and its variables."""
    origins = _environment(environ, allow_imds)
    authority = _https_origin(authority_host or PUBLIC_AUTHORITY_HOST)
    if authority is not None:
        origins.add(authority)
    return Egress(origins=frozenset(origins), microsoft=True)


def token_service(template: str, org: str) -> Optional[Key]:
    """The origin of a configured `vssps_url`; `{org}` may name a host label only when the
    organization is a valid DNS label, so a crafted name never builds a host."""
    try:
        return _https_origin(expand_vssps(template, org))  # the same expansion the lookup uses
    except ValueError:  # `{org}` in the host and an organization that is no DNS label
        return None


def for_lookup(
    feed_url: str,
    org: str,
    *,
    entra: bool,
    allow_http: bool,
    authority_hosts: Iterable[str],
    vssps_template: Optional[str],
    environ: Mapping[str, str],
    allow_imds: bool,
) -> Egress:
    """The lookup's set. `entra` False (a host section without tenant or authority_host): the
    feed alone, since no Entra token is ever obtained for it. `vssps_template`: the configured
    `vssps_url` (the default ones are the feed's origin or a Microsoft host)."""
    feed = key(feed_url)
    static_http = feed if feed[0] == "http" and allow_http else None
    origins = {feed} if feed[0] == "https" else set()
    devops = set(origins)
    if not entra:
        return Egress(frozenset(origins), False, frozenset(devops), static_http)
    for url in authority_hosts:
        where = _https_origin(url)
        if where is not None:
            origins.add(where)
    if vssps_template:
        where = token_service(vssps_template, org)
        if where is not None:
            origins.add(where)
            devops.add(where)
    origins |= _environment(environ, allow_imds)
    return Egress(frozenset(origins), True, frozenset(devops), static_http)
