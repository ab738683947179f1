"""`azure_pipelines`: credentials an Azure Pipelines job has in its environment.

Returned as they are (no exchange), in this order:
- `ARTIFACTS_CREDENTIALPROVIDER_EXTERNAL_FEED_ENDPOINTS`, else `VSS_NUGET_EXTERNAL_FEED_ENDPOINTS`:
  JSON `{"endpointCredentials": [{"endpoint", "username", "password"}]}`. An endpoint applies
  when it is a case-insensitive prefix of the requested URL; the longest one wins.
- `ARTIFACTS_CREDENTIALPROVIDER_FEED_ENDPOINTS`: JSON `{"endpointCredentials": [{"endpoint",
  "clientId", "clientCertificateFilePath"?}]}` naming an identity per feed: a managed identity
  (`clientId` = its client id, or `system`) or a service principal with a certificate file. Its
  Entra token is the password, as in Microsoft's provider.
- `ARTIFACTS_CREDENTIALPROVIDER_ACCESSTOKEN`, else `VSS_NUGET_ACCESSTOKEN` (else
  `SYSTEM_ACCESSTOKEN`) for URLs under one of the semicolon-separated
  `ARTIFACTS_CREDENTIALPROVIDER_URI_PREFIXES`, else `VSS_NUGET_URI_PREFIXES`; without prefixes
  the token goes nowhere.
- Workload identity federation through a service connection (an `AzureCLI@2` /
  `AzurePowerShell@5` step): `SYSTEM_OIDCREQUESTURI`, `SYSTEM_ACCESSTOKEN` and
  `AZURESUBSCRIPTION_CLIENT_ID` / `_TENANT_ID` / `_SERVICE_CONNECTION_ID`, through
  azure-identity's `AzurePipelinesCredential`; the service principal's Entra token.

Where a current and a legacy name are both set, the current one wins and the legacy one is
not read (artifacts-credprovider README, "Environment Variables": "When both a new (preferred)
environment variable and its legacy equivalent are set, the new variable takes precedence";
its `EnvUtil.GetEnvironmentVariable` falls back to the legacy name only when the new one is
blank). The pipeline tasks themselves still set the legacy names.

Like Microsoft's credential provider we compare prefixes case-insensitively, but a prefix
must end on a boundary (`/`, `?`, `#`, `@` or the end of the URL) so that an endpoint for
`.../contoso` is never sent to `.../contoso-evil` or to `pkgs.dev.azure.com.evil.io`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .._log import get_logger
from ..errors import CredentialUnavailable
from ..urls import origin
from ._identity import http_kwargs, request_token
from ._util import env_value
from .base import AccessToken, Flow, FlowOptions

# (current name, legacy name): the first one set wins.
ENDPOINT_VARIABLES = (
    "ARTIFACTS_CREDENTIALPROVIDER_EXTERNAL_FEED_ENDPOINTS",
    "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS",
)
TOKEN_VARIABLES = ("ARTIFACTS_CREDENTIALPROVIDER_ACCESSTOKEN", "VSS_NUGET_ACCESSTOKEN", "SYSTEM_ACCESSTOKEN")
PREFIXES_VARIABLES = ("ARTIFACTS_CREDENTIALPROVIDER_URI_PREFIXES", "VSS_NUGET_URI_PREFIXES")
IDENTITY_ENDPOINTS_VARIABLE = "ARTIFACTS_CREDENTIALPROVIDER_FEED_ENDPOINTS"
# What azure-identity's AzurePipelinesCredential needs (SYSTEM_OIDCREQUESTURI it reads itself).
FEDERATION_VARIABLES = (
    "SYSTEM_OIDCREQUESTURI",
    "SYSTEM_ACCESSTOKEN",
    "AZURESUBSCRIPTION_CLIENT_ID",
    "AZURESUBSCRIPTION_TENANT_ID",
    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
)
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
    text = url.strip() if "://" in url else "https://" + url.strip()
    return f"{origin(text)}{urlsplit(text).path}".lower()


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


@dataclass(frozen=True)
class IdentityEndpoint:
    """One entry of `ARTIFACTS_CREDENTIALPROVIDER_FEED_ENDPOINTS`: which identity serves a feed."""

    endpoint: str
    client_id: str  # a client id, or "system" for a system-assigned managed identity
    certificate_path: str | None = None
    certificate_subject: str | None = None


def parse_identity_endpoints(text: str) -> list[IdentityEndpoint]:
    """The entries of `ARTIFACTS_CREDENTIALPROVIDER_FEED_ENDPOINTS`; ValueError naming what is wrong."""
    source = IDENTITY_ENDPOINTS_VARIABLE
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    entries = (
        next((v for k, v in document.items() if k.lower() == "endpointcredentials"), None)
        if isinstance(document, dict)
        else None
    )
    if not isinstance(entries, list):
        raise ValueError(f"{source} must be a JSON object with an 'endpointCredentials' list")
    found = []
    for index, entry in enumerate(entries):
        fields = {k.lower(): v for k, v in entry.items()} if isinstance(entry, dict) else {}
        endpoint, client_id = fields.get("endpoint"), fields.get("clientid")
        if not isinstance(endpoint, str) or not endpoint.strip():
            raise ValueError(f"{source}: endpointCredentials[{index}]: 'endpoint' is missing")
        if not isinstance(client_id, str) or not client_id.strip():
            raise ValueError(f"{source}: endpointCredentials[{index}]: 'clientId' is missing")
        path, subject = fields.get("clientcertificatefilepath"), fields.get("clientcertificatesubjectname")
        found.append(
            IdentityEndpoint(
                endpoint.strip(),
                client_id.strip(),
                path if isinstance(path, str) and path else None,
                subject if isinstance(subject, str) and subject else None,
            )
        )
    return found


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


def first_set(environ: Mapping[str, str], names: Sequence[str]) -> str | None:
    """The first of `names` that is set (not blank): current names before legacy ones."""
    return next((n for n in names if env_value(environ, n)), None)


def uri_prefixes(text: str) -> list[str]:
    """`..._URI_PREFIXES`: semicolon-separated, blanks ignored."""
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
    """Pure: the credential for `url` from the pipeline variables, or why there is none.

    Only what needs no request: endpoint passwords and the job access token. The identity
    endpoints and federation (which ask Entra ID) are `identity_for` and `federation_missing`.
    """
    reasons: list[str] = []
    endpoints: list[Endpoint] = []
    name = first_set(environ, ENDPOINT_VARIABLES)
    if name is not None:
        try:
            endpoints = parse_endpoints(environ[name].strip(), name)
        except ValueError as exc:
            reasons.append(str(exc))
    expires = int(now) + ASSUMED_LIFETIME
    match = best_endpoint(endpoints, url) if url else None
    if match is not None:
        return _Found(AccessToken(match.password, expires, match.username), ())
    if endpoints:
        reasons.append(f"no endpoint in {name} for {_display(url)}")
    token_name = first_set(environ, TOKEN_VARIABLES)
    if token_name is not None:
        prefixes_name = first_set(environ, PREFIXES_VARIABLES)
        prefixes = uri_prefixes(environ[prefixes_name]) if prefixes_name else []
        if not prefixes:
            reasons.append(f"{token_name} is set but neither of {', '.join(PREFIXES_VARIABLES)} is")
        elif url and token_applies(prefixes, url):
            return _Found(AccessToken(environ[token_name].strip(), expires, TOKEN_USERNAME), ())
        else:
            reasons.append(f"{_display(url)} is not under {prefixes_name}")
    if not reasons:
        reasons.append("no Azure Pipelines variables are set")
    return _Found(None, tuple(reasons))


def identity_for(environ: Mapping[str, str], url: str) -> IdentityEndpoint | None:
    """The `ARTIFACTS_CREDENTIALPROVIDER_FEED_ENDPOINTS` entry for `url` (longest prefix), if any;
    ValueError when the variable cannot be read."""
    text = env_value(environ, IDENTITY_ENDPOINTS_VARIABLE)
    if text is None or not url:
        return None
    wanted = normalize_url(url)
    best: IdentityEndpoint | None = None
    for candidate in parse_identity_endpoints(text):
        prefix = normalize_url(candidate.endpoint)
        if under_prefix(wanted, prefix) and (best is None or len(prefix) > len(normalize_url(best.endpoint))):
            best = candidate
    return best


def federation_missing(environ: Mapping[str, str]) -> list[str]:
    """The workload identity federation variables that are not set (all of them: not in a job)."""
    return [name for name in FEDERATION_VARIABLES if not env_value(environ, name)]


def configured(environ: Mapping[str, str]) -> bool:
    """Whether pipeline variables are there at all (`auto` then tries this flow first)."""
    if first_set(environ, (*ENDPOINT_VARIABLES, IDENTITY_ENDPOINTS_VARIABLE, *TOKEN_VARIABLES[:2])):
        return True
    if env_value(environ, "SYSTEM_ACCESSTOKEN") and first_set(environ, PREFIXES_VARIABLES):
        return True
    return not federation_missing(environ)


def unavailable_reason(options: FlowOptions) -> str | None:
    """Why no pipeline credential applies to `options.service_url` (pure: no I/O)."""
    found = find(options.environ, options.service_url, time.time())
    if found.token is not None:
        return None
    try:
        if identity_for(options.environ, options.service_url) is not None:
            return None
    except ValueError as exc:
        return str(exc)
    missing = federation_missing(options.environ)
    if not missing:
        return None
    reasons = list(found.reasons)
    if len(missing) < len(FEDERATION_VARIABLES) and env_value(options.environ, "SYSTEM_OIDCREQUESTURI"):
        reasons.append(f"workload identity federation needs {', '.join(missing)}")
    return "; ".join(reasons)


class AzurePipelinesFlow(Flow):
    """Only ever returns a credential whose endpoint or prefix covers the requested URL."""

    name = "azure_pipelines"
    service_identity = True  # when it signs in: a feed's identity or a service connection
    hands_over = True
    auto = 1

    unavailable = staticmethod(unavailable_reason)

    @classmethod
    def in_auto(cls, options: FlowOptions) -> bool:
        """Whenever pipeline variables are set, even for another URL (the attempt says why not)."""
        return configured(options.environ)

    @classmethod
    def identity_inputs(cls, options: FlowOptions, note_file: Callable[[Path], None]) -> dict[str, object]:
        """The identity `ARTIFACTS_CREDENTIALPROVIDER_FEED_ENDPOINTS` names for this feed, and the
        service connection of workload identity federation. Handed-over endpoint passwords and
        job tokens are never cached, so they choose nothing here."""
        env = options.environ
        try:
            identity = identity_for(env, options.service_url)
        except ValueError:
            identity = None
        inputs: dict[str, object] = {}
        if identity is not None:
            inputs["endpoint"] = [
                identity.client_id.lower(),
                identity.certificate_path,
                identity.certificate_subject,
                env_value(env, "AZURE_TENANT_ID") if identity.certificate_path else None,
            ]
        if not federation_missing(env):
            inputs["service_connection"] = [
                env_value(env, name)
                for name in (
                    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
                    "AZURESUBSCRIPTION_CLIENT_ID",
                    "AZURESUBSCRIPTION_TENANT_ID",
                )
            ]
        return inputs

    def get_token(self, scope: str) -> AccessToken:
        options = self.options
        found = find(options.environ, options.service_url, time.time())
        if found.token is not None:
            get_logger().debug("azure_pipelines: credential for %s", _display(options.service_url))
            return found.token
        try:
            identity = identity_for(options.environ, options.service_url)
        except ValueError as exc:
            raise CredentialUnavailable(str(exc)) from None
        if identity is not None:
            return self._identity_token(identity, scope)
        if not federation_missing(options.environ):
            return self._federated_token(scope)
        raise CredentialUnavailable(unavailable_reason(options) or "no Azure Pipelines credential")

    def _identity_token(self, identity: IdentityEndpoint, scope: str) -> AccessToken:
        """The Entra token of the identity `ARTIFACTS_CREDENTIALPROVIDER_FEED_ENDPOINTS` names."""
        from dataclasses import replace

        from .base import AccessToken as Token

        log = get_logger()
        options = self.options
        if identity.certificate_subject and not identity.certificate_path:
            raise CredentialUnavailable(
                f"{IDENTITY_ENDPOINTS_VARIABLE}: certificate stores (clientCertificateSubjectName) "
                "are Windows-only; give clientCertificateFilePath"
            )
        if identity.certificate_path:
            tenant = options.tenant or env_value(options.environ, "AZURE_TENANT_ID")
            if not tenant:
                raise CredentialUnavailable(
                    f"{IDENTITY_ENDPOINTS_VARIABLE}: a certificate needs the tenant (config `tenant` or AZURE_TENANT_ID)"
                )
            log.debug("azure_pipelines: service principal %s (certificate) for this feed", identity.client_id)
            token = request_token(
                self.name,
                lambda: _certificate_credential(identity, tenant, options),
                scope,
            )
        else:
            from .managed_identity import ManagedIdentityFlow

            client_id = None if identity.client_id.lower() == "system" else identity.client_id
            log.debug("azure_pipelines: managed identity %s for this feed", identity.client_id)
            # The variable names the identity explicitly, as `credential = managed_identity` does.
            token = ManagedIdentityFlow(replace(options, client_id=client_id, allow_imds=True)).get_token(
                scope
            )
        return Token(token.token, token.expires_on, identity.client_id)

    def _federated_token(self, scope: str) -> AccessToken:
        """The service connection's Entra token through azure-identity's AzurePipelinesCredential."""
        env = self.options.environ
        get_logger().debug(
            "azure_pipelines: service connection %s (workload identity federation)",
            env_value(env, "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"),
        )

        def build() -> object:
            from azure.identity import AzurePipelinesCredential

            return AzurePipelinesCredential(
                tenant_id=env_value(env, "AZURESUBSCRIPTION_TENANT_ID") or "",
                client_id=env_value(env, "AZURESUBSCRIPTION_CLIENT_ID") or "",
                service_connection_id=env_value(env, "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID") or "",
                system_access_token=env_value(env, "SYSTEM_ACCESSTOKEN") or "",
                **http_kwargs(self.options),
            )

        return request_token(self.name, build, scope)


def _certificate_credential(identity: IdentityEndpoint, tenant: str, options: FlowOptions) -> object:
    from azure.identity import CertificateCredential

    return CertificateCredential(
        tenant, identity.client_id, identity.certificate_path, **http_kwargs(options)
    )
