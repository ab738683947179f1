"""The fake refuses the way Entra ID and Azure DevOps do, and the product survives each refusal.

Each behaviour of the fake is sourced in keyrings/azure_artifacts/testing/ and in the README's
"Differences from the real services" table; real msal, azure-identity and requests are used.
"""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from helpers import APP_ID, APP_SECRET, posix_only

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.cache import ensure_dir, state_dir
from keyrings.azure_artifacts.credentials import broker, chain
from keyrings.azure_artifacts.credentials.base import FlowOptions
from keyrings.azure_artifacts.discovery import (
    NULL_TENANT,
    Challenge,
    DiscoveryCache,
    parse_challenge,
    sign_in_tenant,
)
from keyrings.azure_artifacts.egress import Egress
from keyrings.azure_artifacts.errors import AuthenticationFailed
from keyrings.azure_artifacts.exchange.session import create_session_token
from keyrings.azure_artifacts.http import Http, refused
from keyrings.azure_artifacts.microsoft import ADO_SCOPE
from keyrings.azure_artifacts.testing import FakeAzure
from keyrings.azure_artifacts.urls import parse_service

if TYPE_CHECKING:
    from helpers import CleanEnv

TIMEOUT = 20
USER = "user@contoso.com"


@pytest.fixture
def http(fake: FakeAzure) -> Iterator[Http]:
    """May send credentials to the fake, which plays Azure DevOps (so it gets the Suppress header)."""
    client = Http(timeout=10, retries=1, backoff=0, egress=Egress.to(fake.base_url))
    yield client
    client.close()


def env_for(fake: FakeAzure, clean_env: CleanEnv, config: str, **extra: str) -> dict[str, str]:
    """A CI job's environment for an in-process lookup, with a config for the fake."""
    config = f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n{config}'
    return clean_env.for_lookup(config, ca=fake.ca_path, CI="1", **extra)


def sp_env(fake: FakeAzure) -> dict[str, str]:
    return {
        "AZURE_TENANT_ID": fake.default_tenant,
        "AZURE_CLIENT_ID": APP_ID,
        "AZURE_CLIENT_SECRET": APP_SECRET,
    }


def works_at_feed(fake: FakeAzure, secret: str, org: str = "contoso", feed: str = "main") -> bool:
    response = requests.get(
        fake.feed_url(org, feed), auth=("x", secret), verify=fake.ca_path, timeout=TIMEOUT
    )
    return response.status_code == 200


# -- refused credentials: 203 sign-in page, 302 to sign-in, 401 ------------------------------------


def test_rest_api_refuses_with_a_sign_in_page_unless_suppressed(fake: FakeAzure) -> None:
    url = f"{fake.base_url}/contoso/_apis/tokens/pats?api-version=7.1-preview.1"
    bad = {"Authorization": "Basic " + "eDpub3QtYS1wYXQ="}
    plain = requests.get(url, headers=bad, verify=fake.ca_path, timeout=TIMEOUT, allow_redirects=False)
    assert plain.status_code == 203 and "text/html" in plain.headers["Content-Type"]
    assert "Sign In" in plain.text and refused(plain)
    suppressed = requests.get(
        url, headers={**bad, "X-TFS-FedAuthRedirect": "Suppress"}, verify=fake.ca_path, timeout=TIMEOUT
    )
    assert suppressed.status_code == 401 and refused(suppressed)
    fake.refusal = "302"
    redirected = requests.get(url, headers=bad, verify=fake.ca_path, timeout=TIMEOUT, allow_redirects=False)
    assert redirected.status_code == 302 and "/_signin" in redirected.headers["Location"]
    assert refused(redirected)
    # A feed answers a refused credential with 401 either way.
    feed = requests.get(fake.feed_url("contoso", "main"), headers=bad, verify=fake.ca_path, timeout=TIMEOUT)
    assert feed.status_code == 401


def test_http_sends_suppress_and_never_follows_a_sign_in_redirect(fake: FakeAzure, http: Http) -> None:
    fake.refusal = "302"
    url = f"{fake.base_url}/contoso/_apis/tokens/pats?api-version=7.1-preview.1"
    bad = {"Authorization": "Basic eDpub3QtYS1wYXQ="}
    assert http.get(url, headers=bad).status_code == 401  # Suppress: a plain 401
    answer = http.get(url, headers=bad, suppress_sign_in=False)
    assert answer.status_code == 302 and refused(answer)
    assert fake.count("sign_in") == 0  # the sign-in page was never fetched


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (401, {}, True),
        (203, {"Content-Type": "text/html; charset=utf-8"}, True),
        (203, {}, True),
        (203, {"Content-Type": "application/json"}, False),
        (302, {"Location": "https://app.vssps.visualstudio.com/_signin?realm=dev.azure.com"}, True),
        (302, {"Location": "https://login.microsoftonline.com/common/oauth2/authorize"}, True),
        (302, {"Location": "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"}, False),
        (200, {"Content-Type": "text/html"}, False),
        (403, {}, False),
    ],
)
def test_refused_reads_every_way_of_refusing(status: int, headers: dict[str, str], expected: bool) -> None:
    class Answer:
        url = "https://vssps.dev.azure.com/contoso/_apis/connectionData"

        def __init__(self) -> None:
            self.status_code = status
            self.headers = headers

    assert refused(Answer()) is expected  # type: ignore[arg-type]


def test_session_exchange_states_the_token_type_and_reads_a_refusal(fake: FakeAzure, http: Http) -> None:
    entra = fake.access_token(client_id=APP_ID)
    issued = create_session_token(http, f"{fake.base_url}/contoso", entra, ["vso.packaging"], None, "kr")
    assert fake.lookup(issued.token).kind == "session"  # type: ignore[union-attr]
    [request] = [r for r in fake.requests if r.route == "session_token"]
    assert request.query["tokenType"] == "SelfDescribing"
    fake.revoke(entra)
    with pytest.raises(AuthenticationFailed, match="refused"):
        create_session_token(http, f"{fake.base_url}/contoso", entra, ["vso.packaging"], None, "kr")
    assert fake.requests[-1].status == 401  # Suppress was sent: a 401, not the sign-in page


def test_compact_token_type_is_a_visible_pat(fake: FakeAzure) -> None:
    response = requests.post(
        f"{fake.base_url}/contoso/_apis/Token/SessionTokens?tokenType=Compact&api-version=5.0-preview.1",
        json={"displayName": "x", "scope": "vso.packaging"},
        headers={"Authorization": f"Bearer {fake.access_token(username=USER)}"},
        verify=fake.ca_path,
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert fake.lookup(response.json()["token"]).kind == "pat"  # type: ignore[union-attr]


# -- the PAT lifecycle API: users only, organization lifespan policy, api-versions -------------------


def test_pat_api_refuses_app_only_identities_and_long_lifetimes(fake: FakeAzure, http: Http) -> None:
    from datetime import datetime, timedelta, timezone

    from keyrings.azure_artifacts.pat.client import create_pat

    later = datetime.now(timezone.utc) + timedelta(days=30)
    vssps = f"{fake.base_url}/contoso"
    with pytest.raises(AuthenticationFailed, match="invalidUserType"):
        create_pat(http, vssps, fake.access_token(client_id=APP_ID), ["vso.packaging"], later, "kr")
    fake.orgs["contoso"].pat_max_lifetime = 7 * 86400
    # Since sprint 236 the API shortens a lifetime above the policy instead of refusing it.
    shortened = create_pat(http, vssps, fake.access_token(username=USER), ["vso.packaging"], later, "kr")
    assert abs(shortened.expires_at - (fake.now() + 7 * 86400)) < 120
    fake.pat_lifespan = "refuse"  # the older answer, still read as a refusal
    with pytest.raises(AuthenticationFailed, match="patLifespanPolicyViolation"):
        create_pat(http, vssps, fake.access_token(username=USER), ["vso.packaging"], later, "kr")
    assert len(fake.issued("pat")) == 1
    short = datetime.now(timezone.utc) + timedelta(days=7)
    assert create_pat(http, vssps, fake.access_token(username=USER), ["vso.packaging"], short, "kr").token


def test_connection_data_names_the_anonymous_identity_for_a_refused_credential(fake: FakeAzure) -> None:
    from keyrings.azure_artifacts.pat.mode import anonymous

    url = f"{fake.base_url}/contoso/_apis/connectionData"
    bad = requests.get(url, auth=("x", "not-a-pat"), verify=fake.ca_path, timeout=TIMEOUT)
    user = bad.json()["authenticatedUser"]
    assert bad.status_code == 200 and user["id"] == "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
    assert user["descriptor"].startswith("System:PublicAccess") and anonymous(bad)
    good = requests.get(
        url, auth=("x", fake.access_token(username=USER)), verify=fake.ca_path, timeout=TIMEOUT
    )
    assert good.status_code == 200 and not anonymous(good)
    fake.connection_data_refusal = "challenge"
    assert requests.get(url, auth=("x", "nope"), verify=fake.ca_path, timeout=TIMEOUT).status_code == 203


def test_personal_account_org_challenge_is_a_bare_bearer(fake: FakeAzure) -> None:
    fake.add_org("personal", kind="personal")
    fake.add_feed("personal", "feed")
    answer = requests.get(fake.feed_url("personal", "feed"), verify=fake.ca_path, timeout=TIMEOUT)
    assert answer.status_code == 401
    assert "Bearer" in answer.raw.headers.getlist("WWW-Authenticate")
    assert parse_challenge(list(answer.headers.items())).tenant == NULL_TENANT


def test_another_tenants_entra_token_is_refused_with_401(fake: FakeAzure, http: Http) -> None:
    other = fake.access_token(username=USER, tenant="0f0f0f0f-0000-4000-8000-000000000000")
    with pytest.raises(AuthenticationFailed, match="refused"):
        create_session_token(http, f"{fake.base_url}/contoso", other, ["vso.packaging"], None, "kr")
    assert fake.requests[-1].status == 401


@pytest.mark.parametrize("query", ["", "?api-version=9.9-preview.1"])
def test_api_version_is_required_and_checked(fake: FakeAzure, query: str) -> None:
    response = requests.post(
        f"{fake.base_url}/contoso/_apis/Token/SessionTokens{query}",
        json={"displayName": "x", "scope": "vso.packaging"},
        headers={"Authorization": f"Bearer {fake.access_token()}", "X-TFS-FedAuthRedirect": "Suppress"},
        verify=fake.ca_path,
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["typeKey"] in ("VssVersionNotSpecifiedException", "VssVersionOutOfRangeException")
    assert "api-version" in body["message"] or "out of range" in body["message"]


# -- personal-account organizations, feeds without a challenge --------------------------------------


def test_personal_account_org_signs_in_at_organizations_and_silently_next_run(
    fake: FakeAzure, clean_env: CleanEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add_org("personal", kind="personal")
    fake.add_feed("personal", "feed", packages={"demo-pkg": ["1.0.0"]})
    fake.device_user(approve_after_polls=1, username="someone@outlook.com")
    url = fake.feed_url("personal", "feed")
    first_env = env_for(fake, clean_env, "credential = device_code\ninteractive = always\n")
    found = service.lookup(url, None, environ=first_env)
    assert found is not None and works_at_feed(fake, found[1], "personal", "feed")
    assert [r.path.split("/")[1] for r in fake.requests if r.route == "devicecode"] == ["organizations"]
    cached = DiscoveryCache(clean_env.state_dir).get(f"{fake.host}/personal")
    assert cached is not None and cached.tenant == NULL_TENANT
    # The next run: nothing interactive allowed, the secret cache gone; MSAL's persisted account
    # at `organizations` is found silently.
    for path in (clean_env.state_dir / "secrets").glob("*.json"):
        path.unlink()
    second_env = env_for(fake, clean_env, "credential = shared_cache\ninteractive = never\n")
    again = service.lookup(url, None, environ=second_env)
    assert again is not None and works_at_feed(fake, again[1], "personal", "feed")
    assert fake.count("devicecode") == 1
    assert "enter the code" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["stripped", "public"])
def test_discovery_without_a_tenant_is_never_cached(fake: FakeAzure, clean_env: CleanEnv, kind: str) -> None:
    if kind == "stripped":
        fake.add_org("bare", challenge=False)
        fake.add_feed("bare", "feed")
    else:
        fake.add_org("bare")
        fake.add_feed("bare", "feed", anonymous_read=True)
    url = fake.feed_url("bare", "feed")
    env = env_for(fake, clean_env, "credential = environment\nauth = bearer\n", **sp_env(fake))
    for _ in range(2):
        found = service.lookup(url, None, environ=env)
        assert found is not None and works_at_feed(fake, found[1], "bare", "feed")
        for path in (clean_env.state_dir / "secrets").glob("*.json"):
            path.unlink()
    assert fake.count("simple", org="bare", auth_kind="anonymous") == 2  # asked again, not cached
    assert DiscoveryCache(clean_env.state_dir).get(f"{fake.host}/bare") is None


def test_discovery_cache_refuses_an_answer_without_a_tenant(tmp_path: Path) -> None:
    cache = DiscoveryCache(tmp_path)
    assert cache.put("host/org", Challenge(None, "https://login.microsoftonline.com", None)) is False
    assert cache.get("host/org") is None and not (tmp_path / DiscoveryCache.FILE_NAME).exists()
    assert cache.put("host/org", Challenge(NULL_TENANT)) is True
    assert sign_in_tenant(NULL_TENANT) == "organizations"


def test_challenge_parsing_keeps_the_all_zero_tenant_only_when_nothing_better() -> None:
    zero = ("X-VSS-ResourceTenant", NULL_TENANT)
    uri = ("WWW-Authenticate", f"Bearer authorization_uri=https://login.microsoftonline.com/{NULL_TENANT}")
    assert parse_challenge([zero, uri]).tenant == NULL_TENANT
    real = "11111111-2222-4333-8444-555555555555"
    assert parse_challenge([zero, ("X-VSS-ResourceTenant", real)]).tenant == real


# -- public clients and redirect URIs -----------------------------------------------------------


def test_only_registered_public_clients_may_sign_a_user_in(fake: FakeAzure) -> None:
    import msal

    def device_flow(client_id: str) -> dict[str, Any]:
        app = msal.PublicClientApplication(
            client_id, authority=f"{fake.base_url}/organizations", instance_discovery=False, timeout=10
        )
        return dict(app.initiate_device_flow(scopes=[ADO_SCOPE]))

    assert "user_code" in device_flow("d5a56ea4-7369-46b8-a538-c370805301bf")
    unknown = device_flow(str(uuid.uuid4()))
    assert unknown.get("error") == "unauthorized_client" and "AADSTS700016" in unknown["error_description"]
    confidential = device_flow(APP_ID)  # an app with a secret, no public client flows
    assert confidential.get("error") == "invalid_client"


def test_authorize_checks_the_redirect_uri(fake: FakeAzure) -> None:
    base = f"{fake.base_url}/organizations/oauth2/v2.0/authorize"
    query = {
        "client_id": "d5a56ea4-7369-46b8-a538-c370805301bf",
        "response_type": "code",
        "scope": f"{ADO_SCOPE} openid offline_access",
    }
    loopback = requests.get(
        base, params={**query, "redirect_uri": "http://localhost:51234"}, verify=fake.ca_path,
        timeout=TIMEOUT, allow_redirects=False,
    )  # fmt: skip
    assert loopback.status_code == 302 and loopback.headers["Location"].startswith("http://localhost:51234")
    elsewhere = requests.get(
        base,
        params={**query, "redirect_uri": "https://evil.example/cb"},
        verify=fake.ca_path,
        timeout=TIMEOUT,
    )
    assert elsewhere.status_code == 400 and "AADSTS50011" in elsewhere.text


# -- Azure DevOps Server -----------------------------------------------------------------------


def test_server_collection_knows_no_entra_and_takes_a_pat_over_basic_only(fake: FakeAzure) -> None:
    fake.add_org("DefaultCollection", kind="server")
    fake.add_feed("DefaultCollection", "feed", packages={"demo-pkg": ["1.0.0"]})
    url = fake.feed_url("DefaultCollection", "feed")
    anonymous = requests.get(url, verify=fake.ca_path, timeout=TIMEOUT)
    challenges = anonymous.raw.headers.getlist("WWW-Authenticate")
    assert anonymous.status_code == 401 and challenges[:2] == ["Negotiate", "NTLM"]
    assert "X-VSS-E2EID" in anonymous.headers and "X-VSS-ResourceTenant" not in anonymous.headers
    assert not any(c.lower().startswith("bearer") for c in challenges)
    assert parse_challenge(list(anonymous.headers.items())) == Challenge()
    pat = fake.server_pat("DefaultCollection")
    assert requests.get(url, auth=("x", pat), verify=fake.ca_path, timeout=TIMEOUT).status_code == 200
    bearer = {"Authorization": f"Bearer {pat}"}
    assert requests.get(url, headers=bearer, verify=fake.ca_path, timeout=TIMEOUT).status_code == 401
    entra = {"Authorization": f"Bearer {fake.access_token()}"}
    assert requests.get(url, headers=entra, verify=fake.ca_path, timeout=TIMEOUT).status_code == 401
    sessions = requests.post(
        f"{fake.base_url}/DefaultCollection/_apis/Token/SessionTokens?api-version=5.0-preview.1",
        json={}, headers=entra, verify=fake.ca_path, timeout=TIMEOUT,
    )  # fmt: skip
    assert sessions.status_code == 404


# -- Azure Pipelines workload identity federation ----------------------------------------------


def test_pipelines_federation_through_azure_identity(
    fake: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = fake.azure_pipelines_job("contoso")
    for name, value in job.items():  # AzurePipelinesCredential reads SYSTEM_OIDCREQUESTURI itself
        monkeypatch.setenv(name, value)
    env = env_for(fake, clean_env, "", **job)
    options = FlowOptions(
        org="contoso", authority_host=fake.base_url, environ=env, service_url=fake.feed_url("contoso", "main")
    )
    assert chain.auto_chain(options)[0] == "azure_pipelines"
    found = service.lookup(fake.feed_url("contoso", "main"), None, environ=env)
    assert found is not None and works_at_feed(fake, found[1])
    issued = fake.lookup(found[1])
    # An Entra token like any other: exchanged for a session token (auth = session, the default).
    assert issued is not None and issued.kind == "session"
    assert issued.client_id == job["AZURESUBSCRIPTION_CLIENT_ID"]
    [oidc] = [r for r in fake.requests if r.route == "pipelines_oidc"]
    assert (
        oidc.status == 200
        and oidc.query["serviceConnectionId"] == job["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"]
    )


def test_pipelines_oidc_endpoint_refuses_like_the_service(fake: FakeAzure) -> None:
    job = fake.azure_pipelines_job("contoso")
    url = job["SYSTEM_OIDCREQUESTURI"]
    connection = job["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"]
    bad = {"Authorization": "Bearer not-the-job-token"}
    plain = requests.post(
        f"{url}?api-version=7.1&serviceConnectionId={connection}",
        headers=bad,
        verify=fake.ca_path,
        timeout=TIMEOUT,
    )
    assert plain.status_code == 203
    no_version = requests.post(
        f"{url}?serviceConnectionId={connection}",
        headers={"Authorization": f"Bearer {job['SYSTEM_ACCESSTOKEN']}"}, verify=fake.ca_path, timeout=TIMEOUT,
    )  # fmt: skip
    assert no_version.status_code == 400
    good = requests.post(
        f"{url}?api-version=7.1&serviceConnectionId={connection}",
        headers={"Authorization": f"Bearer {job['SYSTEM_ACCESSTOKEN']}", "X-TFS-FedAuthRedirect": "Suppress"},
        verify=fake.ca_path, timeout=TIMEOUT,
    )  # fmt: skip
    assert good.status_code == 200 and good.json()["oidcToken"].count(".") == 2


def test_current_credprovider_names_win(fake: FakeAzure) -> None:
    url = fake.feed_url("contoso", "main")
    env = {
        "ARTIFACTS_CREDENTIALPROVIDER_ACCESSTOKEN": "current-token",
        "VSS_NUGET_ACCESSTOKEN": "legacy-token",
        "ARTIFACTS_CREDENTIALPROVIDER_URI_PREFIXES": f"{fake.base_url}/contoso/",
        "VSS_NUGET_URI_PREFIXES": f"{fake.base_url}/other/",
    }
    options = FlowOptions(org="contoso", environ=env, service_url=url)
    assert chain.build_flow("azure_pipelines", options).get_token(ADO_SCOPE).token == "current-token"
    legacy = {k: v for k, v in env.items() if not k.startswith("ARTIFACTS_")}
    reason = chain.unavailable_reason(
        "azure_pipelines", FlowOptions(org="contoso", environ=legacy, service_url=url)
    )
    assert reason is not None and "VSS_NUGET_URI_PREFIXES" in reason


def test_feed_endpoints_variable_names_a_managed_identity(
    fake: FakeAzure, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    url = fake.feed_url("contoso", "main")
    mi = {"IDENTITY_ENDPOINT": f"{fake.base_url}/msi/token", "IDENTITY_HEADER": fake.identity_header}
    for name, value in mi.items():
        monkeypatch.setenv(name, value)
    client_id = str(uuid.uuid4())
    env = {
        **mi,
        "ARTIFACTS_CREDENTIALPROVIDER_FEED_ENDPOINTS": json.dumps(
            {"endpointCredentials": [{"endpoint": f"{fake.base_url}/contoso/", "clientId": client_id}]}
        ),
    }
    options = FlowOptions(org="contoso", environ=env, service_url=url, authority_host=fake.base_url)
    token = chain.build_flow("azure_pipelines", options).get_token(ADO_SCOPE)
    issued = fake.lookup(token.token)
    assert issued is not None and issued.client_id == client_id and token.username == client_id
    other = FlowOptions(org="x", environ=env, service_url=fake.feed_url("other", "f"))
    assert chain.unavailable_reason("azure_pipelines", other) is not None


# -- hosts, directories, broker ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("service_url", "ours"),
    [
        ("https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", True),
        ("https://pkgs.dev.azure.com:443/contoso/_packaging/main/pypi/simple/", True),
        ("https://pkgs.dev.azure.com:8443/contoso/_packaging/main/pypi/simple/", False),
        ("https://contoso.pkgs.visualstudio.com:444/_packaging/main/pypi/simple/", False),
        ("pkgs.dev.azure.com:8443/contoso/_packaging/main/pypi/simple/", False),
    ],
)
def test_built_in_hosts_are_port_aware(service_url: str, ours: bool) -> None:
    assert (parse_service(service_url) is not None) is ours


def test_lookup_for_another_port_makes_no_request(clean_env: CleanEnv) -> None:
    env = clean_env.for_lookup()
    assert (
        service.lookup("https://pkgs.dev.azure.com:8443/contoso/_packaging/main/pypi/simple/", None, env)
        is None
    )


@posix_only
def test_every_directory_we_create_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    old = os.umask(0o022)
    try:
        made = ensure_dir(state_dir({}) / "secrets")
    finally:
        os.umask(old)
    created = [tmp_path / "data", *(p for p in made.parents if tmp_path / "data" in p.parents), made]
    assert {p.name for p in created} >= {"data", "python_keyring", "azure-artifacts", "secrets"}
    for path in created:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_broker_is_offered_on_windows_only(platform: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broker.sys, "platform", platform)
    assert not broker.broker_supported(platform)
    reason = broker.unavailable_reason(FlowOptions(org="contoso", interactive=True))
    assert reason is not None and "Windows" in reason
