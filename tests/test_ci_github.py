"""GitHub Actions OIDC: `workload_identity` without AZURE_FEDERATED_TOKEN_FILE, against the fake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from keyrings.azure_artifacts.credentials import chain
from keyrings.azure_artifacts.credentials.base import FlowOptions
from keyrings.azure_artifacts.errors import AuthenticationFailed, ChainFailed, CredentialUnavailable
from keyrings.azure_artifacts.microsoft import ADO_SCOPE
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from helpers import CleanEnv

APP_ID = "0c0c0c0c-0000-4000-8000-00000000c003"


@pytest.fixture
def fake(fake: FakeAzure) -> FakeAzure:
    """The shared fake with an app that trusts GitHub's OIDC tokens for this repository."""
    fake.add_app(APP_ID, federated_subject=fake.github_subject)
    return fake


def github_env(fake: FakeAzure, **extra: str) -> dict[str, str]:
    """What a job with `permissions: id-token: write` and azure/login-style ids sees."""
    return {
        # The runtime's URL already carries a query; the audience is appended to it.
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{fake.base_url}/_github/token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": fake.github_request_token,
        "AZURE_CLIENT_ID": APP_ID,
        "AZURE_TENANT_ID": fake.default_tenant,
        "GITHUB_ACTIONS": "true",
        **extra,
    }


def options(fake: FakeAzure, environ: dict[str, str]) -> FlowOptions:
    return FlowOptions(org="contoso", authority_host=fake.authority_host, timeout=5.0, environ=environ)


def test_github_oidc_token_is_exchanged_for_an_entra_token(fake: FakeAzure) -> None:
    opts = options(fake, github_env(fake))
    assert "workload_identity" in chain.auto_chain(opts)

    token = chain.build_flow("workload_identity", opts).get_token(ADO_SCOPE)

    issued = fake.lookup(token.token)
    assert issued is not None and issued.kind == "access" and issued.client_id == APP_ID
    [oidc] = [r for r in fake.requests if r.route == "github_oidc"]
    assert oidc.status == 200
    assert fake.count("token", status=200, client_id=APP_ID) == 1
    assert fake.count("instance_discovery") == 0


def test_token_file_wins_over_github(fake: FakeAzure, tmp_path: Path) -> None:
    token_file = tmp_path / "federated"
    token_file.write_text(fake.federated_token(), encoding="utf-8")
    env = github_env(fake, AZURE_FEDERATED_TOKEN_FILE=str(token_file))
    chain.build_flow("workload_identity", options(fake, env)).get_token(ADO_SCOPE)
    assert fake.count("github_oidc") == 0


def test_wrong_request_token_fails_with_one_safe_line(fake: FakeAzure) -> None:
    env = github_env(fake, ACTIONS_ID_TOKEN_REQUEST_TOKEN="not-the-token")
    with pytest.raises(AuthenticationFailed) as info:
        chain.build_flow("workload_identity", options(fake, env)).get_token(ADO_SCOPE)
    message = str(info.value)
    assert message == "GitHub OIDC token request: HTTP 401"
    assert fake.count("token") == 0


def test_subject_not_federated_is_refused_by_entra(fake: FakeAzure) -> None:
    fake.github_subject = "repo:someone/else:ref:refs/heads/main"
    with pytest.raises(AuthenticationFailed, match="AADSTS"):
        chain.build_flow("workload_identity", options(fake, github_env(fake))).get_token(ADO_SCOPE)


def test_request_url_must_be_https(fake: FakeAzure) -> None:
    env = github_env(fake, ACTIONS_ID_TOKEN_REQUEST_URL=f"http://{fake.host}/_github/token")
    with pytest.raises(AuthenticationFailed, match="not an https URL"):
        chain.build_flow("workload_identity", options(fake, env)).get_token(ADO_SCOPE)
    assert fake.count() == 0


@pytest.mark.parametrize(
    ("drop", "reason"),
    [
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN is not (job needs"),
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "neither AZURE_FEDERATED_TOKEN_FILE nor ACTIONS_ID_TOKEN_REQUEST_URL",
        ),
        ("AZURE_CLIENT_ID", "AZURE_CLIENT_ID is not set"),
        ("AZURE_TENANT_ID", "AZURE_TENANT_ID is not set"),
    ],
)
def test_unavailable_without_its_variables(fake: FakeAzure, drop: str, reason: str) -> None:
    env = github_env(fake)
    del env[drop]
    opts = options(fake, env)
    assert reason in (chain.unavailable_reason("workload_identity", opts) or "")
    assert "workload_identity" not in chain.auto_chain(opts)
    with pytest.raises(CredentialUnavailable, match=reason.split(" (")[0]):
        chain.build_flow("workload_identity", opts).get_token(ADO_SCOPE)
    assert fake.count() == 0


def test_hanging_oidc_endpoint_is_bounded(fake: FakeAzure) -> None:
    fake.inject("github_oidc", hang=30, times=10)
    opts = FlowOptions(
        org="contoso", authority_host=fake.authority_host, timeout=0.5, environ=github_env(fake)
    )
    with pytest.raises(ChainFailed, match="timed out"):
        chain.ChainedFlow([chain.build_flow("workload_identity", opts)], "contoso").get_token(ADO_SCOPE)


def pip_env(fake: FakeAzure, clean_env: CleanEnv, auth: str) -> dict[str, str]:
    """Nothing from this machine (clean_env), the fake's CA, our config, and the job's variables."""
    config = f'[artifacts host="{fake.host}"]\nauthority_host = {fake.authority_host}\nauth = {auth}\n'
    return clean_env(config, ca=fake.ca_path, **github_env(fake, CI="true"))


@pytest.mark.e2e
@pytest.mark.parametrize("auth", ["bearer", "session"])
def test_pip_installs_with_github_oidc(
    fake: FakeAzure, clean_env: CleanEnv, tmp_path: Path, auth: str
) -> None:
    target = tmp_path / "target"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-cache-dir",
            "--disable-pip-version-check",
            # --no-input turns pip's `auto` keyring provider off: CI jobs name the provider.
            "--no-input",
            "--keyring-provider",
            "import",
            "--target",
            str(target),
            "--index-url",
            fake.feed_url("contoso", "main"),
            "demo-pkg",
        ],
        env=pip_env(fake, clean_env, auth),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert '__version__ = "1.0.0"' in (target / "demo_pkg" / "__init__.py").read_text(encoding="utf-8")
    assert fake.count("github_oidc", status=200) == 1
    assert fake.count("token", status=200, client_id=APP_ID) == 1
    kinds = {r.auth_kind for r in fake.requests if r.route in ("simple", "download") and r.status == 200}
    assert kinds == {"entra" if auth == "bearer" else "session"}
