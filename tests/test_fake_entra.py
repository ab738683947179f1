"""The fake's Entra ID side, driven by real msal and azure-identity."""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import msal
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    AzureCliCredential,
    AzureDeveloperCliCredential,
    CertificateCredential,
    ClientAssertionCredential,
    ClientSecretCredential,
    CredentialUnavailableError,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)

from keyrings.azure_artifacts.testing import (
    ADO_SCOPE,
    AZURE_ARTIFACTS_CLIENT_ID,
    FakeAzure,
)

TIMEOUT = 10
APP_ID = "8f4c1a2b-1111-4222-8333-944455556666"


def feed_accepts(fake: FakeAzure, token: str) -> bool:
    response = requests.get(
        fake.feed_url("contoso", "main"), headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )
    return response.status_code == 200


def public_app(fake: FakeAzure, cache: msal.TokenCache | None = None) -> msal.PublicClientApplication:
    return msal.PublicClientApplication(
        AZURE_ARTIFACTS_CLIENT_ID,
        authority=f"{fake.base_url}/organizations",
        instance_discovery=False,
        token_cache=cache,
        timeout=TIMEOUT,
    )


# --- user flows (msal) --------------------------------------------------------------------


def test_device_flow_then_silent_sign_in_from_a_second_app(fake: FakeAzure) -> None:
    fake.device_code_interval = 0
    fake.device_user(approve_after_polls=3, username="ada@contoso.com")
    cache = msal.SerializableTokenCache()
    app = public_app(fake, cache)
    flow = app.initiate_device_flow(scopes=[ADO_SCOPE])
    assert "user_code" in flow, flow
    result = app.acquire_token_by_device_flow(flow, exit_condition=lambda f: time.time() > f["expires_at"])
    assert "access_token" in result, result
    assert fake.count("token", grant_type="urn:ietf:params:oauth:grant-type:device_code", status=400) == 2
    assert result["id_token_claims"]["preferred_username"] == "ada@contoso.com"
    assert feed_accepts(fake, result["access_token"])

    second_cache = msal.SerializableTokenCache()
    second_cache.deserialize(cache.serialize())
    second = public_app(fake, second_cache)
    accounts = second.get_accounts()
    assert [a["username"] for a in accounts] == ["ada@contoso.com"]
    fake.clear_log()
    silent = second.acquire_token_silent([ADO_SCOPE], account=accounts[0])
    assert silent is not None and silent["access_token"] == result["access_token"]
    assert fake.count("token") == 0
    refreshed = second.acquire_token_silent([ADO_SCOPE], account=accounts[0], force_refresh=True)
    assert refreshed is not None and "access_token" in refreshed, refreshed
    assert fake.count("token", grant_type="refresh_token", status=200) == 1


def test_device_flow_denied_by_the_user(fake: FakeAzure) -> None:
    fake.device_code_interval = 0
    fake.device_user(approve_after_polls=1, deny=True)
    app = public_app(fake)
    flow = app.initiate_device_flow(scopes=[ADO_SCOPE])
    result = app.acquire_token_by_device_flow(flow, exit_condition=lambda f: time.time() > f["expires_at"])
    assert result.get("error") == "authorization_declined"


def test_auth_code_flow_with_pkce(fake: FakeAzure) -> None:
    app = public_app(fake)
    flow = app.initiate_auth_code_flow(
        [ADO_SCOPE], redirect_uri="http://localhost:8400/", response_mode="form_post"
    )
    response = requests.get(flow["auth_uri"], allow_redirects=False, timeout=TIMEOUT)
    if response.status_code == 302:
        answer = dict(parse_qsl(urlsplit(response.headers["Location"]).query))
    else:  # form_post
        answer = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', response.text))
    result = app.acquire_token_by_auth_code_flow(flow, answer)
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == fake.browser_username
    assert feed_accepts(fake, result["access_token"])


def test_revoked_refresh_token_is_invalid_grant(fake: FakeAzure) -> None:
    fake.device_code_interval = 0
    app = public_app(fake)
    result = app.acquire_token_by_device_flow(app.initiate_device_flow(scopes=[ADO_SCOPE]))
    fake.revoke(result["refresh_token"])
    response = requests.post(
        f"{fake.base_url}/organizations/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "client_id": AZURE_ARTIFACTS_CLIENT_ID,
            "refresh_token": result["refresh_token"],
            "scope": f"{ADO_SCOPE} offline_access",
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


# --- service principals (azure-identity) --------------------------------------------------------


def secret_credential(fake: FakeAzure, secret: str) -> ClientSecretCredential:
    return ClientSecretCredential(
        fake.default_tenant, APP_ID, secret, authority=fake.base_url, disable_instance_discovery=True
    )


def test_client_secret_credential(fake: FakeAzure) -> None:
    fake.add_app(APP_ID, secret="s3cret-value")
    token = secret_credential(fake, "s3cret-value").get_token(ADO_SCOPE)
    assert feed_accepts(fake, token.token)
    record = fake.lookup(token.token)
    assert record is not None and record.kind == "access" and record.client_id == APP_ID


def test_wrong_client_secret_is_invalid_client(fake: FakeAzure) -> None:
    fake.add_app(APP_ID, secret="s3cret-value")
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        secret_credential(fake, "wrong").get_token(ADO_SCOPE)
    assert fake.count("token", status=401, client_id=APP_ID) >= 1
    assert all("wrong" not in repr(r) for r in fake.requests)


def test_wrong_scope_is_invalid_scope(fake: FakeAzure) -> None:
    fake.add_app(APP_ID, secret="s3cret-value")
    with pytest.raises(ClientAuthenticationError, match="AADSTS70011"):
        secret_credential(fake, "s3cret-value").get_token("https://graph.microsoft.com/.default")


def test_unknown_grant_type_is_unsupported(fake: FakeAzure) -> None:
    response = requests.post(
        f"{fake.base_url}/{fake.default_tenant}/oauth2/v2.0/token",
        data={"grant_type": "password", "client_id": APP_ID, "username": "u", "password": "p"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_expired_entra_token_is_refused_at_the_feed(fake: FakeAzure) -> None:
    fake.add_app(APP_ID, secret="s3cret-value")
    fake.token_lifetime = 60
    token = secret_credential(fake, "s3cret-value").get_token(ADO_SCOPE)
    fake.advance(61)
    assert not feed_accepts(fake, token.token)


def test_certificate_credential(fake: FakeAzure) -> None:
    import trustme

    leaf = trustme.CA().issue_cert("app.contoso.example", key_type=trustme.KeyType.RSA)
    cert_pem = leaf.cert_chain_pems[0].bytes()
    fake.add_app(APP_ID, certificate_pem=cert_pem)
    credential = CertificateCredential(
        fake.default_tenant,
        APP_ID,
        certificate_data=leaf.private_key_pem.bytes() + cert_pem,
        authority=fake.base_url,
        disable_instance_discovery=True,
    )
    assert feed_accepts(fake, credential.get_token(ADO_SCOPE).token)


def test_certificate_not_registered_is_refused(fake: FakeAzure) -> None:
    import trustme

    rsa = trustme.KeyType.RSA
    registered = trustme.CA().issue_cert("a.example", key_type=rsa)
    other = trustme.CA().issue_cert("b.example", key_type=rsa)
    fake.add_app(APP_ID, certificate_pem=registered.cert_chain_pems[0].bytes())
    credential = CertificateCredential(
        fake.default_tenant,
        APP_ID,
        certificate_data=other.private_key_pem.bytes() + other.cert_chain_pems[0].bytes(),
        authority=fake.base_url,
        disable_instance_discovery=True,
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        credential.get_token(ADO_SCOPE)


def test_workload_identity_with_a_federated_token_file(fake: FakeAzure, tmp_path: Path) -> None:
    subject = "system:serviceaccount:default:builder"
    fake.add_app(APP_ID, federated_subject=subject)
    token_file = tmp_path / "token"
    token_file.write_text(fake.federated_token(subject=subject))
    credential = WorkloadIdentityCredential(
        tenant_id=fake.default_tenant,
        client_id=APP_ID,
        token_file_path=str(token_file),
        authority=fake.base_url,
        disable_instance_discovery=True,
    )
    assert feed_accepts(fake, credential.get_token(ADO_SCOPE).token)


def test_github_oidc_token_as_client_assertion(fake: FakeAzure) -> None:
    fake.add_app(APP_ID, federated_subject=fake.github_subject)

    def github_token() -> str:
        response = requests.get(
            f"{fake.base_url}/_github/token",
            params={"audience": "api://AzureADTokenExchange"},
            headers={"Authorization": f"bearer {fake.github_request_token}"},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        return str(response.json()["value"])

    credential = ClientAssertionCredential(
        fake.default_tenant, APP_ID, github_token, authority=fake.base_url, disable_instance_discovery=True
    )
    assert feed_accepts(fake, credential.get_token(ADO_SCOPE).token)
    assert fake.count("github_oidc", status=200) == 1


def test_federated_token_for_another_subject_is_refused(fake: FakeAzure) -> None:
    fake.add_app(APP_ID, federated_subject="repo:contoso/app:ref:refs/heads/main")
    credential = ClientAssertionCredential(
        fake.default_tenant,
        APP_ID,
        lambda: fake.federated_token(subject="repo:evil/app:ref:refs/heads/main"),
        authority=fake.base_url,
        disable_instance_discovery=True,
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS700213"):
        credential.get_token(ADO_SCOPE)


# --- managed identity ------------------------------------------------------------------------


def test_app_service_managed_identity(fake: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{fake.base_url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", fake.identity_header)
    token = ManagedIdentityCredential().get_token(ADO_SCOPE)
    assert feed_accepts(fake, token.token)
    assert token.expires_on > time.time() + 3000
    assert fake.count("msi", status=200) == 1


def test_user_assigned_identity_on_imds(fake: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", fake.base_url)
    client_id = "0e9e8d7c-aaaa-4bbb-8ccc-000000000042"
    token = ManagedIdentityCredential(client_id=client_id).get_token(ADO_SCOPE)
    assert feed_accepts(fake, token.token)
    record = fake.lookup(token.token)
    assert record is not None and record.client_id == client_id
    assert fake.count("imds", status=200, client_id=client_id) == 1


def test_missing_identity_headers_are_refused(fake: FakeAzure) -> None:
    msi = requests.get(
        f"{fake.base_url}/msi/token",
        params={"api-version": "2019-08-01", "resource": "499b84ac-1321-427f-aa17-267ca6975798"},
        timeout=TIMEOUT,
    )
    assert msi.status_code == 400
    imds = requests.get(
        f"{fake.base_url}/metadata/identity/oauth2/token",
        params={"api-version": "2018-02-01", "resource": "499b84ac-1321-427f-aa17-267ca6975798"},
        timeout=TIMEOUT,
    )
    assert imds.status_code == 400
    assert imds.json()["error"] == "invalid_request"


# --- fake CLIs ------------------------------------------------------------------------------------


@pytest.fixture
def cli_path(fake: FakeAzure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    fake.install_cli(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def test_azure_cli_credential(fake: FakeAzure, cli_path: Path) -> None:
    token = AzureCliCredential(process_timeout=30).get_token(ADO_SCOPE)
    assert feed_accepts(fake, token.token)
    assert token.expires_on > time.time() + 3000


def test_azure_cli_logged_out(fake: FakeAzure, cli_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_AZ_LOGGED_OUT", "1")
    with pytest.raises(CredentialUnavailableError, match="az login"):
        AzureCliCredential(process_timeout=30).get_token(ADO_SCOPE)


def test_azure_developer_cli_credential(fake: FakeAzure, cli_path: Path) -> None:
    token = AzureDeveloperCliCredential(process_timeout=30).get_token(ADO_SCOPE)
    assert feed_accepts(fake, token.token)


# --- faults ------------------------------------------------------------------------------------------


def test_503_twice_then_ok_with_retries(fake: FakeAzure) -> None:
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    fake.inject("simple", status=503, times=2, retry_after=0)
    session = requests.Session()
    retry = Retry(total=3, status_forcelist=[503], backoff_factor=0, allowed_methods=None)
    session.mount("https://", HTTPAdapter(max_retries=retry))
    response = session.get(fake.feed_url("contoso", "main"), timeout=TIMEOUT)
    assert response.status_code == 401  # the real handler ran after the faults
    assert fake.count("simple", status=503, fault=True) == 2
    assert fake.count("simple") == 3


def test_hang_is_bounded_by_the_client_timeout(fake: FakeAzure) -> None:
    fake.inject("openid", hang=30)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{fake.base_url}/organizations/v2.0/.well-known/openid-configuration", timeout=0.5)
    assert time.monotonic() - started < 5


def test_stop_returns_promptly_during_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeAzure().start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_path)
    fault = fake.inject("openid", hang=60)

    def hanging_call() -> None:
        with contextlib.suppress(requests.RequestException):
            requests.get(f"{fake.base_url}/common/v2.0/.well-known/openid-configuration", timeout=20)

    worker = threading.Thread(target=hanging_call, daemon=True)
    worker.start()
    deadline = time.monotonic() + 5
    while fault.times != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 3
    worker.join(timeout=10)
    assert not worker.is_alive()


def test_malformed_json_answer(fake: FakeAzure) -> None:
    fake.add_app(APP_ID, secret="s3cret-value")
    fake.inject("token", body=b'{"access_token": "trunc', times=1)
    with pytest.raises(ClientAuthenticationError):
        secret_credential(fake, "s3cret-value").get_token(ADO_SCOPE)
    assert fake.count("token", fault=True) == 1


def test_msal_instance_discovery_endpoint(fake: FakeAzure) -> None:
    app = msal.PublicClientApplication(
        AZURE_ARTIFACTS_CLIENT_ID,
        authority=f"{fake.base_url}/{fake.default_tenant}",
        instance_discovery=f"{fake.base_url}/common/discovery/instance",
        timeout=TIMEOUT,
    )
    flow = app.initiate_device_flow(scopes=[ADO_SCOPE])
    assert "user_code" in flow, flow
    assert [r.route for r in fake.requests] == ["instance_discovery", "openid", "devicecode"]
