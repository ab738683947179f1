"""Flows against the fake Entra ID on 127.0.0.1, with real azure-identity and msal on the other side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import options, posix_only, token_via

from keyrings.azure_artifacts.credentials import chain
from keyrings.azure_artifacts.errors import AuthenticationFailed, ChainFailed, CredentialUnavailable
from keyrings.azure_artifacts.microsoft import ADO_SCOPE

testing = pytest.importorskip("keyrings.azure_artifacts.testing")
FakeAzure = testing.FakeAzure

APP_ID = "0a0a0a0a-0000-4000-8000-00000000a001"
OTHER_TENANT = "0b0b0b0b-0000-4000-8000-00000000b002"


def test_environment_client_secret(fake: FakeAzure) -> None:
    fake.add_app(APP_ID, secret="s3cret-value")
    env = {
        "AZURE_CLIENT_ID": APP_ID,
        "AZURE_TENANT_ID": fake.default_tenant,
        "AZURE_CLIENT_SECRET": "s3cret-value",
    }
    token = chain.build_flow("environment", options(fake, env)).get_token(ADO_SCOPE)
    issued = fake.lookup(token.token)
    assert issued is not None and issued.kind == "access" and issued.client_id == APP_ID
    assert token.expires_on > time.time()
    assert fake.count("instance_discovery") == 0


def test_environment_wrong_secret_is_one_safe_line(fake: FakeAzure) -> None:
    fake.add_app(APP_ID, secret="right")
    env = {
        "AZURE_CLIENT_ID": APP_ID,
        "AZURE_TENANT_ID": fake.default_tenant,
        "AZURE_CLIENT_SECRET": "wrong-value",
    }
    with pytest.raises(AuthenticationFailed) as info:
        token_via("environment", options(fake, env))
    message = str(info.value)
    assert "\n" not in message and "wrong-value" not in message
    assert "AADSTS" in message


def test_environment_certificate(fake: FakeAzure, tmp_path: Path) -> None:
    cert_pem, bundle = _self_signed()
    fake.add_app(APP_ID, certificate_pem=cert_pem)
    path = tmp_path / "sp.pem"
    path.write_bytes(bundle)
    env = {
        "AZURE_CLIENT_ID": APP_ID,
        "AZURE_TENANT_ID": fake.default_tenant,
        "AZURE_CLIENT_CERTIFICATE_PATH": str(path),
    }
    assert fake.lookup(token_via("environment", options(fake, env))) is not None


def test_workload_identity(fake: FakeAzure, tmp_path: Path) -> None:
    fake.add_app(APP_ID, federated_subject=fake.github_subject)
    token_file = tmp_path / "federated-token"
    token_file.write_text(fake.federated_token())
    env = {
        "AZURE_CLIENT_ID": APP_ID,
        "AZURE_TENANT_ID": fake.default_tenant,
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
    }
    assert chain.auto_chain(options(fake, env))[0] == "workload_identity"
    issued = fake.lookup(token_via("workload_identity", options(fake, env)))
    assert issued is not None and issued.client_id == APP_ID


def test_managed_identity_app_service(fake: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{fake.base_url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", fake.identity_header)
    opts = options(fake, dict(os.environ))
    assert "managed_identity" in chain.auto_chain(opts)
    assert fake.lookup(token_via("managed_identity", opts)) is not None
    assert fake.count("msi") >= 1 and fake.count("imds") == 0


def test_managed_identity_user_assigned_imds_style(fake: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", fake.base_url)
    client_id = "0c0c0c0c-0000-4000-8000-00000000c003"
    issued = fake.lookup(token_via("managed_identity", options(fake, dict(os.environ), client_id=client_id)))
    assert issued is not None
    assert fake.count("imds") >= 1
    assert all(r.route in ("imds",) for r in fake.requests)


def test_managed_identity_without_endpoint_never_probes(fake: FakeAzure, outside_calls: list[str]) -> None:
    with pytest.raises(CredentialUnavailable, match="IMDS is not probed"):
        token_via("managed_identity", options(fake, dict(os.environ)))
    assert outside_calls == []  # no connection to 169.254.169.254, nor anywhere else


def _fake_az(bin_dir: Path, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "az"
    script.write_text(f"#!{sys.executable}\nimport json, sys\n{body}\n")
    script.chmod(0o755)
    if sys.platform == "win32":  # azure-identity runs az.cmd there, as the real CLI installs it
        (bin_dir / "az.cmd").write_bytes(f'@"{sys.executable}" "%~dp0az" %*\r\n'.encode())


def test_azure_cli(fake: FakeAzure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = fake.access_token()
    args_file = tmp_path / "args.json"
    _fake_az(
        tmp_path / "bin",
        f"json.dump(sys.argv[1:], open({str(args_file)!r}, 'w'))\n"
        f"print(json.dumps({{'accessToken': {secret!r}, 'expires_on': 4102444800}}))",
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    opts = options(fake, dict(os.environ))
    assert "azure_cli" in chain.auto_chain(opts)
    token = chain.build_flow("azure_cli", opts).get_token(ADO_SCOPE)
    assert token.token == secret and token.expires_on == 4102444800
    args = json.loads(args_file.read_text())
    assert args[:2] == ["account", "get-access-token"]
    assert args[args.index("--tenant") + 1] == fake.default_tenant
    # Without a tenant, no --tenant argument.
    token_via("azure_cli", options(fake, dict(os.environ), tenant=None))
    assert "--tenant" not in json.loads(args_file.read_text())


def test_azure_cli_not_logged_in_is_unavailable(
    fake: FakeAzure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_az(
        tmp_path / "bin",
        "sys.stderr.write(\"ERROR: Please run 'az login' to setup account.\\n\")\nsys.exit(1)",
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    with pytest.raises(CredentialUnavailable):
        token_via("azure_cli", options(fake, dict(os.environ)))


def test_azure_cli_hang_is_bounded(fake: FakeAzure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    finished = tmp_path / "finished"
    _fake_az(tmp_path / "bin", f"import time\ntime.sleep(30)\nopen({str(finished)!r}, 'w').close()")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    with pytest.raises(CredentialUnavailable):
        token_via("azure_cli", options(fake, dict(os.environ), timeout=1.0))
    # The flow gave up on the process: had it waited, `az` would have finished first.
    assert not finished.exists()


@pytest.mark.parametrize("name", ["azure_cli", "azure_developer_cli"])
def test_fake_cli_from_the_fake(
    fake: FakeAzure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    if not hasattr(fake, "install_cli"):
        pytest.skip("this fake has no install_cli")
    fake.install_cli(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    issued = fake.lookup(token_via(name, options(fake, dict(os.environ))))
    assert issued is not None and issued.tenant == fake.default_tenant
    monkeypatch.setenv("FAKE_AZ_LOGGED_OUT", "1")
    monkeypatch.setenv("FAKE_AZD_LOGGED_OUT", "1")
    with pytest.raises(CredentialUnavailable):
        token_via(name, options(fake, dict(os.environ)))


SILENT_CHILD = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from keyrings.azure_artifacts.microsoft import ADO_SCOPE
    from keyrings.azure_artifacts.credentials.base import FlowOptions
    from keyrings.azure_artifacts.credentials.chain import build_flow
    args = json.loads(sys.argv[1])
    options = FlowOptions(org="contoso", tenant=args["tenant"], authority_host=args["authority"],
                          state_dir=Path(args["state_dir"]), environ={}, timeout=5.0)
    token = build_flow("shared_cache", options).get_token(ADO_SCOPE)
    print(json.dumps({"token": token.token}))
    """
)


def _silent_in_new_process(fake: FakeAzure, state_dir: Path, tenant: str) -> str:
    args = {"tenant": tenant, "authority": fake.authority_host, "state_dir": str(state_dir)}
    done = subprocess.run(
        [sys.executable, "-c", SILENT_CHILD, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return str(json.loads(done.stdout)["token"])


def test_device_code_then_silent_in_a_new_process(
    fake: FakeAzure, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.device_user(approve_after_polls=2)
    state = tmp_path / "state"
    opts = options(fake, {"PATH": ""}, interactive=True, state_dir=state, interactive_timeout=30.0)
    assert chain.auto_chain(opts)[-1] == "device_code"
    flows = [chain.build_flow(n, opts) for n in chain.auto_chain(opts)]
    token = chain.ChainedFlow(flows, "contoso").get_token(ADO_SCOPE)
    issued = fake.lookup(token.token)
    assert issued is not None and issued.username == "user@contoso.com"
    out, err = capsys.readouterr()
    assert out == ""
    assert "enter the code" in err
    cache_file = state / "msal_token_cache.bin"
    assert os.name != "posix" or cache_file.stat().st_mode & 0o777 == 0o600
    assert token.token not in err

    fake.clear_log()
    silent = _silent_in_new_process(fake, state, fake.default_tenant)
    assert fake.lookup(silent) is not None
    assert fake.count("devicecode") == 0


def test_two_tenants_coexist_in_one_cache(fake: FakeAzure, tmp_path: Path) -> None:
    fake.add_org("fabrikam", tenant=OTHER_TENANT)
    state = tmp_path / "state"
    fake.device_user(approve_after_polls=1, username="ann@contoso.com")
    token_via("device_code", options(fake, {}, interactive=True, state_dir=state))
    fake.device_user(approve_after_polls=1, username="bob@fabrikam.com")
    token_via("device_code", options(fake, {}, interactive=True, state_dir=state, tenant=OTHER_TENANT))

    fake.clear_log()
    first = fake.lookup(_silent_in_new_process(fake, state, fake.default_tenant))
    second = fake.lookup(_silent_in_new_process(fake, state, OTHER_TENANT))
    assert first is not None and first.username == "ann@contoso.com" and first.tenant == fake.default_tenant
    assert second is not None and second.username == "bob@fabrikam.com" and second.tenant == OTHER_TENANT
    assert fake.count("devicecode") == 0
    unknown = "0d0d0d0d-0000-4000-8000-00000000d004"
    with pytest.raises(CredentialUnavailable, match="no cached sign-in for tenant"):
        token_via("shared_cache", options(fake, {}, state_dir=state, tenant=unknown))


def test_shared_cache_expired_sign_in_passes_on(fake: FakeAzure, tmp_path: Path) -> None:
    state = tmp_path / "state"
    token = token_via("device_code", options(fake, {}, interactive=True, state_dir=state))
    for issued in fake.issued("refresh"):
        fake.revoke(issued.secret)
    opts = options(fake, {}, state_dir=state)
    flow = chain.build_flow("shared_cache", opts)
    # msal serves the still-valid cached access token without asking the server...
    assert flow.get_token(ADO_SCOPE).token == token
    # ...until a fresh token is needed: then the refresh is refused and the chain moves on.
    _expire_cached_access_tokens(state / "msal_token_cache.bin")
    with pytest.raises(CredentialUnavailable, match="cached sign-in expired"):
        chain.build_flow("shared_cache", opts).get_token(ADO_SCOPE)


def test_device_code_denied_fails_the_chain(fake: FakeAzure, tmp_path: Path) -> None:
    fake.device_user(approve_after_polls=1, deny=True)
    opts = options(fake, {"PATH": ""}, interactive=True, state_dir=tmp_path)
    flows = [chain.build_flow(n, opts) for n in chain.auto_chain(opts)]
    with pytest.raises(ChainFailed) as info:
        chain.ChainedFlow(flows, "contoso").get_token(ADO_SCOPE)
    assert info.value.attempts[-1][0] == "device_code"
    assert info.value.attempts[-1][1].startswith("authorization_declined: AADSTS70000")


def _expire_cached_access_tokens(path: Path) -> None:
    data = json.loads(path.read_text())
    for entry in data.get("AccessToken", {}).values():
        entry["expires_on"] = str(int(time.time()) - 10)
    path.write_text(json.dumps(data))
    # msal-extensions reloads when the file's mtime moves on
    later = time.time() + 5
    os.utime(path, (later, later))


def _self_signed() -> tuple[bytes, bytes]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
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
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert_pem, key_pem + cert_pem


def test_silent_token_endpoint_is_bounded(fake: FakeAzure) -> None:
    fake.add_app(APP_ID, secret="s3cret-value")
    fake.inject("token", hang=8, times=10)
    env = {
        "AZURE_CLIENT_ID": APP_ID,
        "AZURE_TENANT_ID": fake.default_tenant,
        "AZURE_CLIENT_SECRET": "s3cret-value",
    }
    with pytest.raises(AuthenticationFailed) as info:
        token_via("environment", options(fake, env, timeout=0.5))
    # Had the 0.5 s timeout not applied, the fake would have answered with a token after 8 s.
    assert "timed out" in str(info.value)
    assert fake.arrived("token") == 1  # cut short once; a token POST that timed out is not resent
    assert "s3cret" not in str(info.value)


@posix_only
def test_the_sign_in_cache_directory_and_its_new_parents_are_private(fake: FakeAzure, tmp_path: Path) -> None:
    import stat

    state = tmp_path / "a" / "b" / "state"
    fake.device_user(approve_after_polls=1)
    token_via("device_code", options(fake, {}, interactive=True, state_dir=state))
    for directory in (tmp_path / "a", tmp_path / "a" / "b", state):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
