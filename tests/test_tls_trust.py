"""Certificates are checked on every HTTP stack we use: our client, msal, azure-identity.

Everywhere else the tests trust the fake's CA through REQUESTS_CA_BUNDLE, so a client
that stopped verifying certificates (`session.verify = False`) would pass them all.
Here no CA variable is set: the fake's certificate, issued by a CA nobody trusts, must
be refused by each stack, and then accepted once its CA is named (the control that
shows the refusal is about trust and nothing else).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import pytest

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.credentials import chain, msal_user
from keyrings.azure_artifacts.credentials.base import FlowOptions
from keyrings.azure_artifacts.errors import ServiceError, UntrustedCertificate
from keyrings.azure_artifacts.http import Http
from keyrings.azure_artifacts.microsoft import ADO_SCOPE
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from conftest import CleanEnv, Logged

APP_ID = "7e7e7e7e-0000-4000-8000-00000000e001"
APP_SECRET = "tls-app-secret-value"


@pytest.fixture(params=["untrusted", "trusted"])
def trust(
    request: pytest.FixtureRequest,
    fake_azure: FakeAzure,
    clean_env: CleanEnv,
    monkeypatch: pytest.MonkeyPatch,
) -> bool:
    """os.environ as a clean machine has it: no CA variable, or (the control) the fake's CA named."""
    fake_azure.add_app(APP_ID, secret=APP_SECRET)
    trusted = request.param == "trusted"
    clean_env.install(monkeypatch, clean_env(ca=fake_azure.ca_path if trusted else None))
    return trusted


def refused(call: Callable[[], object], error: type[Exception]) -> str:
    with pytest.raises(error) as info:
        call()
    return str(info.value)


def test_our_client_checks_the_certificate(fake_azure: FakeAzure, trust: bool) -> None:
    http = Http(timeout=5, retries=0)
    url = fake_azure.feed_url("contoso", "main")
    try:
        if trust:
            assert http.get(url).status_code == 401  # the anonymous discovery answer
        else:
            assert "CERTIFICATE_VERIFY_FAILED" in refused(lambda: http.get(url), ServiceError)
    finally:
        http.close()
    assert fake_azure.count("simple") == (1 if trust else 0)


@pytest.mark.parametrize("client", ["state directory", "none"])
def test_msal_checks_the_certificate(fake_azure: FakeAzure, trust: bool, tmp_path: Path, client: str) -> None:
    """msal fetches the authority's OIDC metadata when the application is built: through our
    http_client with a state directory (metadata kept on disk) and without one."""
    options = FlowOptions(
        org="contoso",
        tenant=fake_azure.default_tenant,
        authority_host=fake_azure.authority_host,
        timeout=5.0,
        state_dir=tmp_path / "state" if client == "ours" else None,
        environ={},
    )
    if trust:
        assert msal_user.application(options) is not None
        assert fake_azure.count("openid") == 1
    else:
        message = refused(lambda: msal_user.application(options), UntrustedCertificate)
        assert "CERTIFICATE_VERIFY_FAILED" in message and "REQUESTS_CA_BUNDLE" in message
        assert fake_azure.count() == 0


def test_azure_identity_checks_the_certificate(fake_azure: FakeAzure, trust: bool) -> None:
    """The `environment` flow: azure-identity's ClientSecretCredential and azure-core's transport."""
    options = FlowOptions(
        org="contoso",
        tenant=fake_azure.default_tenant,
        authority_host=fake_azure.authority_host,
        timeout=5.0,
        environ={"AZURE_CLIENT_ID": APP_ID, "AZURE_CLIENT_SECRET": APP_SECRET},
    )
    flow = chain.build_flow("environment", options)
    if trust:
        assert fake_azure.lookup(flow.get_token(ADO_SCOPE).token) is not None
    else:
        message = refused(lambda: flow.get_token(ADO_SCOPE), UntrustedCertificate)
        assert (
            f"{fake_azure.host}: certificate not trusted by the OS trust store (CERTIFICATE_VERIFY_FAILED)"
            in message
        )
        assert fake_azure.count("token") == 0


def test_a_lookup_against_an_untrusted_server_gets_nothing(
    fake_azure: FakeAzure, trust: bool, clean_env: CleanEnv, logged: Logged
) -> None:
    """The whole lookup (discovery, sign-in, exchange) with the environment it really runs in."""
    config = f'[artifacts host="{fake_azure.host}"]\nauthority_host = {fake_azure.authority_host}\n'
    env = clean_env(
        config,
        ca=fake_azure.ca_path if trust else None,
        AZURE_TENANT_ID=fake_azure.default_tenant,
        AZURE_CLIENT_ID=APP_ID,
        AZURE_CLIENT_SECRET=APP_SECRET,
        CI="1",
    )
    found = service.lookup(fake_azure.feed_url("contoso", "main"), None, env)
    if trust:
        assert found is not None and fake_azure.lookup(found[1]) is not None
    else:
        assert found is None
        assert fake_azure.count() == 0
        assert any("CERTIFICATE_VERIFY_FAILED" in line for line in logged.warnings()), logged.lines()
