"""Property: whatever the service string, the configuration and the answers a hostile network
gives, no request that carries a credential leaves for an origin the lookup may not use.

Every request of a full in-process lookup (our Http, msal, azure-identity) is answered at the
transport (requests' HTTPAdapter.send) by a script a generated "attacker" controls: the feed's
401 names other authorities and token services, token endpoints redirect, and the crafted
organization tries to become a host. The oracle below is written from the inputs, not from
the product's egress module. The end-to-end versions against the fake are in
test_egress_e2e.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Optional
from unittest import mock
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyrings.azure_artifacts import service

TENANT = "72f988bf-0000-4000-8000-00000000abcd"
APP_ID = "0e0e0e0e-0000-4000-8000-0000000000aa"
SECRET = "property-client-secret"
MI_ENDPOINT = "http://127.0.0.1:41741/msi/token"
GITHUB_URL = "https://token.actions.githubusercontent.com/token?x=1"
PIPELINES_URL = "https://dev.azure.com/contoso/proj/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken"
# What the attacker can name: its own hosts, look-alikes, other ports, plain http.
EVIL = (
    "https://evil.example",
    "https://login.microsoftonline.com.evil.example",
    "https://evilvssps.visualstudio.com",
    "https://login.microsoftonline.com:8443",
    "http://login.microsoftonline.com",
    "https://vssps.dev.azure.com:444",
)
SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-identity-header", "metadata", "secret"}
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)


@dataclass(frozen=True)
class Case:
    feed: str  # "builtin", "org-in-host" or "section"
    org: str
    auth: str
    flow: str
    pin_tenant: bool
    authority: bool  # the section names an authority host
    vssps: Optional[str]  # a configured vssps_url template
    challenge_authority: str
    challenge_vssps: str
    redirect: Optional[str]  # where token endpoints and the token service redirect to
    openid_token_endpoint: str


def service_url(case: Case) -> str:
    org = quote(case.org, safe="")
    if case.feed == "builtin":
        return f"https://pkgs.dev.azure.com/{org}/_packaging/main/pypi/simple/"
    if case.feed == "org-in-host":
        return "https://contoso.pkgs.visualstudio.com/_packaging/main/pypi/simple/"
    return f"https://feeds.corp.example/{org}/_packaging/main/pypi/simple/"


def config(case: Case) -> str:
    lines = ["[artifacts]", f"auth = {case.auth}", f"credential = {case.flow}"]
    if case.feed == "section":
        lines.append('[artifacts host="feeds.corp.example"]')
    if case.pin_tenant:
        lines.append(f"tenant = {TENANT}")
    if case.authority:
        lines.append("authority_host = https://login.corp.example")
    if case.vssps:
        lines.append(f"vssps_url = {case.vssps}")
    return "\n".join(lines) + "\n"


def environment(case: Case, state: str, config_path: str) -> dict[str, str]:
    env = {
        "KEYRINGS_AZURE_ARTIFACTS_CONFIG": config_path,
        "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": state,
        "CI": "1",
        "PATH": "",
        "HOME": state,
        "NO_PROXY": "*",
    }
    if case.flow == "environment":
        env.update(AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=APP_ID, AZURE_CLIENT_SECRET=SECRET)
    elif case.flow == "managed_identity":
        env.update(IDENTITY_ENDPOINT=MI_ENDPOINT, IDENTITY_HEADER="mi-header-secret")
    elif case.flow == "workload_identity":
        env.update(
            AZURE_TENANT_ID=TENANT,
            AZURE_CLIENT_ID=APP_ID,
            ACTIONS_ID_TOKEN_REQUEST_URL=GITHUB_URL,
            ACTIONS_ID_TOKEN_REQUEST_TOKEN="gh-request-token",
        )
    else:  # azure_pipelines: a service connection's workload identity federation
        env.update(
            SYSTEM_OIDCREQUESTURI=PIPELINES_URL,
            SYSTEM_ACCESSTOKEN="job-access-token",
            AZURESUBSCRIPTION_CLIENT_ID=APP_ID,
            AZURESUBSCRIPTION_TENANT_ID=TENANT,
            AZURESUBSCRIPTION_SERVICE_CONNECTION_ID="00000000-0000-4000-8000-0000000000cc",
        )
    return env


def trusted(case: Case) -> set[tuple[str, str, int]]:
    """The oracle: origins the inputs a user controls (configuration, environment) name, plus
    Microsoft's own sign-in and token-service hosts; nothing the URL's names or the network say."""
    https = {
        "login.microsoftonline.com",
        "vssps.dev.azure.com",
        "contoso.vssps.visualstudio.com",
        "pkgs.dev.azure.com",
        "contoso.pkgs.visualstudio.com",
        "token.actions.githubusercontent.com",
        "dev.azure.com",  # the Pipelines OIDC URL the job's environment names
    }
    if case.feed == "section":
        https.add("feeds.corp.example")
    if case.authority:
        https.add("login.corp.example")
    if case.vssps == "https://tokens.corp.example/{org}":
        https.add("tokens.corp.example")
    org = "contoso" if case.feed == "org-in-host" else case.org  # that URL's org is in its host
    if case.vssps == "https://{org}.tokens.corp.example" and _LABEL.match(org):
        https.add(f"{org.lower()}.tokens.corp.example")
    found = {("https", host, 443) for host in https}
    found.add(("http", "127.0.0.1", 41741))  # the managed-identity endpoint: http by design
    return found


def jwt(claims: dict[str, Any]) -> str:
    import base64

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.c2ln"


class Network:
    """Answers every request as the attacker scripted it and records what was sent."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.sent: list[tuple[str, str, dict[str, str], Any]] = []

    def answer(self, method: str, url: str) -> tuple[int, dict[str, str], Any]:
        case, path = self.case, urlsplit(url).path
        token = jwt({"tid": TENANT, "oid": "o", "appid": APP_ID, "exp": int(time.time()) + 3600})
        redirect = {"Location": f"{case.redirect}/stolen"} if case.redirect else None
        if "/_packaging/" in path and method == "GET":
            challenge = {
                "WWW-Authenticate": f"Bearer authorization_uri={case.challenge_authority}/{TENANT}",
                "X-VSS-ResourceTenant": TENANT,
                "X-VSS-AuthorizationEndpoint": f"{case.challenge_vssps}/contoso/",
            }
            return 401, challenge, ""
        if path.endswith("/common/discovery/instance"):
            host = urlsplit(url).netloc
            return (
                200,
                {},
                {
                    "tenant_discovery_endpoint": f"https://{host}/{TENANT}/v2.0/.well-known/openid-configuration"
                },
            )
        if path.endswith("/.well-known/openid-configuration"):
            base = f"https://{urlsplit(url).netloc}/{TENANT}"
            return (
                200,
                {},
                {
                    "issuer": f"{base}/v2.0",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": case.openid_token_endpoint or f"{base}/oauth2/v2.0/token",
                },
            )
        if path.endswith("/oauth2/v2.0/token") or path.endswith("/msi/token"):
            if redirect:
                return 307, redirect, ""
            body: dict[str, Any] = {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
            if path.endswith("/msi/token"):
                body = {**body, "expires_on": str(int(time.time()) + 3600), "resource": "x"}
            return 200, {}, body
        if "oidctoken" in path:
            return 200, {}, {"oidcToken": jwt({"sub": "sc://x"})}
        if urlsplit(url).netloc == "token.actions.githubusercontent.com":
            return 200, {}, {"value": jwt({"sub": "repo:x"})}
        if "/_apis/Token/SessionTokens" in path:
            if redirect:
                return 307, redirect, ""
            valid = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
            return 200, {}, {"token": "session-secret", "validTo": valid, "scope": "vso.packaging"}
        return 404, {}, ""

    def send(self, adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        from urllib3.response import HTTPResponse

        self.sent.append((str(request.method), str(request.url), dict(request.headers), request.body))
        status, headers, body = self.answer(str(request.method), str(request.url))
        content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers = {**headers, "Content-Type": "application/json", "Content-Length": str(len(content))}
        raw = HTTPResponse(
            body=io.BytesIO(content),
            headers=headers,
            status=status,
            preload_content=False,
            decode_content=False,
        )
        return adapter.build_response(request, raw)


def credential_bearing(headers: dict[str, str], body: Any) -> bool:
    return bool(body) or any(name.lower() in SECRET_HEADERS for name in headers)


def origin_of(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return (
        parts.scheme,
        (parts.hostname or "").lower(),
        parts.port or (443 if parts.scheme == "https" else 80),
    )


def run(case: Case) -> list[tuple[str, str, dict[str, str], Any]]:
    """One cold lookup with the network scripted; what was sent."""
    from requests.adapters import HTTPAdapter

    network = Network(case)
    with tempfile.TemporaryDirectory() as root:
        config_path = os.path.join(root, "keyringrc.cfg")
        with open(config_path, "w", encoding="utf-8") as handle:
            handle.write(config(case))
        state = os.path.join(root, "state")
        env = environment(case, state, config_path)
        # msal and azure-identity read the managed-identity variables from os.environ themselves.
        with (
            mock.patch.dict(os.environ, env, clear=True),
            mock.patch.object(
                HTTPAdapter, "send", lambda adapter, request, *a, **k: network.send(adapter, request, *a, **k)
            ),
        ):
            service.lookup(service_url(case), None, environ=env)
    return network.sent


ORGS = st.one_of(
    st.sampled_from(["contoso", "Contoso-1", "evil.example:443/", "evil.example", "x@evil.example", "a#b"]),
    st.text(alphabet="abcXYZ09-._:@/#?%", min_size=1, max_size=12),
)
CASES = st.builds(
    Case,
    feed=st.sampled_from(["builtin", "org-in-host", "section"]),
    org=ORGS,
    auth=st.sampled_from(["session", "bearer"]),
    flow=st.sampled_from(["environment", "managed_identity", "workload_identity", "azure_pipelines"]),
    pin_tenant=st.booleans(),
    authority=st.booleans(),
    vssps=st.sampled_from([None, "https://tokens.corp.example/{org}", "https://{org}.tokens.corp.example"]),
    challenge_authority=st.sampled_from(("https://login.microsoftonline.com", *EVIL)),
    challenge_vssps=st.sampled_from(("https://vssps.dev.azure.com", *EVIL)),
    redirect=st.sampled_from((None, *EVIL)),
    openid_token_endpoint=st.sampled_from(("", *(f"{e}/{TENANT}/oauth2/v2.0/token" for e in EVIL))),
)


# A full lookup per example: a fifth of the profile's count (60 by default, 2,000 with `fuzz`).
@settings(
    max_examples=max(20, settings.default.max_examples // 5),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(CASES)
def test_no_credential_leaves_for_an_origin_outside_the_allowed_set(case: Case) -> None:
    sent = run(case)
    allowed = trusted(case)
    for method, url, headers, body in sent:
        if credential_bearing(headers, body):
            assert origin_of(url) in allowed, (method, url, sorted(headers), case)


def test_the_scripted_network_is_reached() -> None:
    """The property above is not vacuous: a lookup with friendly answers sends its credentials
    (the client secret, then the Entra token to the token service) and gets a session token."""
    case = Case("builtin", "contoso", "session", "environment", True, False, None,
                "https://login.microsoftonline.com", "https://vssps.dev.azure.com", None, "")  # fmt: skip
    sent = run(case)
    bearing = [origin_of(url)[1] for _m, url, headers, body in sent if credential_bearing(headers, body)]
    assert "login.microsoftonline.com" in bearing and "vssps.dev.azure.com" in bearing, sent


@pytest.mark.parametrize("redirect", EVIL)
def test_a_hostile_redirect_gets_nothing(redirect: str) -> None:
    case = Case("builtin", "contoso", "session", "environment", True, False, None,
                "https://login.microsoftonline.com", "https://vssps.dev.azure.com", redirect, "")  # fmt: skip
    sent = run(case)
    to_attacker = [(url, headers, body) for _m, url, headers, body in sent if url.startswith(redirect + "/")]
    assert all(not credential_bearing(headers, body) for _url, headers, body in to_attacker), to_attacker
