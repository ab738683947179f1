"""The app-only flows on msal directly (environment, workload_identity, managed_identity), against the fake:
what they send, how many requests, and which failures mean "try the next" and which "stop"."""

from __future__ import annotations

import datetime
import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from helpers import options, token_via

from keyrings.azure_artifacts.credentials._msal_http import MetadataCachingClient, entra_tenant_document
from keyrings.azure_artifacts.credentials.base import FlowOptions
from keyrings.azure_artifacts.errors import AuthenticationFailed, CredentialUnavailable
from keyrings.azure_artifacts.testing import FakeAzure

APP_ID = "0e0e0e0e-0000-4000-8000-00000000e001"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


# -- metadata msal would fetch -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "token_endpoint"),
    [
        (
            f"https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration",
            f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token",
        ),
        (
            "https://127.0.0.1:8443/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
            "https://127.0.0.1:8443/contoso.onmicrosoft.com/oauth2/v2.0/token",
        ),
        ("https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration", None),
        ("https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration", None),
        ("https://adfs.contoso.com/adfs/.well-known/openid-configuration", None),
        ("https://adfs.contoso.com/adfs/v2.0/.well-known/openid-configuration", None),
        (f"http://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration", None),
        ("https://login.microsoftonline.com/common/discovery/instance", None),
        (f"https://login.microsoftonline.com/a/{TENANT}/v2.0/.well-known/openid-configuration", None),
    ],
)
def test_entra_tenant_document(url: str, token_endpoint: str | None) -> None:
    text = entra_tenant_document(url)
    if token_endpoint is None:
        assert text is None
    else:
        assert text is not None and json.loads(text)["token_endpoint"] == token_endpoint


def test_derived_metadata_needs_no_network() -> None:
    with socket.socket() as closed:  # a port nobody listens on: any request would fail
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    client = MetadataCachingClient(None, timeout=1, derive=True)
    answer = client.get(f"https://127.0.0.1:{port}/{TENANT}/v2.0/.well-known/openid-configuration")
    assert answer.status_code == 200
    assert json.loads(answer.text)["authorization_endpoint"].endswith(f"/{TENANT}/oauth2/v2.0/authorize")
    assert client.last_status is None


# -- environment -----------------------------------------------------------------------------


def sp_env(fake: FakeAzure, **extra: str) -> dict[str, str]:
    return {"AZURE_CLIENT_ID": APP_ID, "AZURE_TENANT_ID": fake.default_tenant, **extra}


def test_client_secret_is_one_token_request(fake: FakeAzure) -> None:
    fake.add_app(APP_ID, secret="s3cret-value")
    issued = fake.lookup(
        token_via("environment", options(fake, sp_env(fake, AZURE_CLIENT_SECRET="s3cret-value")))
    )
    assert issued is not None and issued.client_id == APP_ID
    assert [r.route for r in fake.requests] == ["token"]  # no openid-configuration, no instance discovery


def test_persistent_503_from_entra_is_one_line_after_bounded_retries(fake: FakeAzure) -> None:
    fake.add_app(APP_ID, secret="s3cret-value")
    fake.inject("token", status=503, times=10)
    with pytest.raises(AuthenticationFailed) as info:
        token_via("environment", options(fake, sp_env(fake, AZURE_CLIENT_SECRET="s3cret-value")))
    assert "503" in str(info.value) and "\n" not in str(info.value)
    assert fake.count("token") == 3  # first try + 2 retries (503 means "not now": safe for a POST)


def _certificate(key_type: str = "rsa") -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    key: Any = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if key_type == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sp")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert


@pytest.mark.parametrize("form", ["pkcs12", "encrypted-pem", "pem-with-chain"])
def test_certificate_forms(fake: FakeAzure, tmp_path: Path, form: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    key, cert = _certificate()
    pem = serialization.Encoding.PEM
    fake.add_app(APP_ID, certificate_pem=cert.public_bytes(pem))
    path = tmp_path / "sp.cert"
    extra = {"AZURE_CLIENT_CERTIFICATE_PATH": str(path), "AZURE_CLIENT_CERTIFICATE_PASSWORD": "pw"}
    if form == "pkcs12":
        protect = serialization.BestAvailableEncryption(b"pw")
        path.write_bytes(pkcs12.serialize_key_and_certificates(b"sp", key, cert, None, protect))
    else:
        key_pem = key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
        )
        path.write_bytes(key_pem + cert.public_bytes(pem))
    if form == "pem-with-chain":
        extra["AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"] = "true"
    issued = fake.lookup(token_via("environment", options(fake, sp_env(fake, **extra))))
    assert issued is not None and issued.client_id == APP_ID


def test_unusable_certificates_fail_in_one_line(fake: FakeAzure, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    key, cert = _certificate("ec")
    pem = serialization.Encoding.PEM
    path = tmp_path / "sp.pem"
    path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + cert.public_bytes(pem)
    )
    cases = {
        "must be RSA": str(path),
        "cannot read AZURE_CLIENT_CERTIFICATE_PATH": str(tmp_path / "missing.pem"),
    }
    garbage = tmp_path / "garbage.pfx"
    garbage.write_bytes(b"\x00not a certificate")
    cases["AZURE_CLIENT_CERTIFICATE_PATH"] = str(garbage)
    for expected, where in cases.items():
        with pytest.raises(AuthenticationFailed, match=expected) as info:
            token_via("environment", options(fake, sp_env(fake, AZURE_CLIENT_CERTIFICATE_PATH=where)))
        assert "\n" not in str(info.value)
    assert fake.count() == 0


# -- workload identity ---------------------------------------------------------------------


def test_missing_federated_token_file_has_failed(fake: FakeAzure, tmp_path: Path) -> None:
    env = sp_env(fake, AZURE_FEDERATED_TOKEN_FILE=str(tmp_path / "gone"))
    with pytest.raises(AuthenticationFailed, match="cannot read AZURE_FEDERATED_TOKEN_FILE"):
        token_via("workload_identity", options(fake, env))
    assert fake.count() == 0


def test_federated_token_is_one_token_request(fake: FakeAzure, tmp_path: Path) -> None:
    fake.add_app(APP_ID, federated_subject=fake.github_subject)
    token_file = tmp_path / "token"
    token_file.write_text(fake.federated_token() + "\n")
    env = sp_env(fake, AZURE_FEDERATED_TOKEN_FILE=str(token_file))
    assert fake.lookup(token_via("workload_identity", options(fake, env))) is not None
    assert [r.route for r in fake.requests] == ["token"]


# -- managed identity ----------------------------------------------------------------------


def mi_options(fake: FakeAzure, monkeypatch: pytest.MonkeyPatch, **variables: str) -> FlowOptions:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)  # msal reads the endpoint from the process environment
    return options(fake, dict(os.environ))


def test_imds_that_does_not_answer_is_unavailable(fake: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    opts = mi_options(fake, monkeypatch, AZURE_POD_IDENTITY_AUTHORITY_HOST=f"https://127.0.0.1:{port}")
    with pytest.raises(CredentialUnavailable, match="no response from the IMDS endpoint"):
        token_via("managed_identity", opts)


def test_imds_400_means_no_identity_here(fake: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> None:
    # IMDS answers 400 when no (or not the requested) identity is assigned to the VM:
    # https://learn.microsoft.com/en-us/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#error-handling
    body = b'{"error":"invalid_request","error_description":"Identity not found"}'
    fake.inject("imds", status=400, body=body)
    opts = mi_options(fake, monkeypatch, AZURE_POD_IDENTITY_AUTHORITY_HOST=fake.base_url)
    with pytest.raises(CredentialUnavailable, match="no identity is assigned"):
        token_via("managed_identity", opts)
    assert fake.count("imds") == 1


def test_app_service_refusal_has_failed(fake: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> None:
    opts = mi_options(
        fake,
        monkeypatch,
        IDENTITY_ENDPOINT=f"{fake.base_url}/msi/token",
        IDENTITY_HEADER="not-the-header",
    )
    with pytest.raises(AuthenticationFailed) as info:
        token_via("managed_identity", opts)
    assert "not-the-header" not in str(info.value) and "\n" not in str(info.value)
    assert fake.count("msi", status=401) == 1
