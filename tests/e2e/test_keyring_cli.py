"""`keyring get` in a clean process: exact stdout, quiet stderr, cache reuse, clean failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import ORG, Sandbox

pytestmark = pytest.mark.e2e
ROUTES = ("instance_discovery", "openid", "token", "session_token", "pat_create", "simple")


def test_keyring_get_prints_exactly_the_secret(sp_sandbox: Sandbox) -> None:
    """stdout is what uv reads as the password: the secret and a newline, nothing else."""
    result = sp_sandbox.keyring_get()

    assert result.returncode == 0, result.stderr
    [session] = sp_sandbox.fake.issued("session")
    assert result.stdout == session.secret + "\n"
    assert session.scopes == ("vso.packaging",)
    assert result.stderr == ""


def test_debug_log_goes_to_stderr_without_secrets(sp_sandbox: Sandbox) -> None:
    """With KEYRINGS_AZURE_ARTIFACTS_LOG=debug decisions are logged, but never a secret."""
    result = sp_sandbox.keyring_get(KEYRINGS_AZURE_ARTIFACTS_LOG="debug")

    assert result.returncode == 0, result.stderr
    fake = sp_sandbox.fake
    [session] = fake.issued("session")
    assert result.stdout == session.secret + "\n"
    log = result.stderr
    # Debug logging names the section chosen, flow tried, cache hit/miss, request URLs (wording is free).
    for decision in ("section", "miss", "environment", "/_apis/Token/SessionTokens"):
        assert decision in log, f"no {decision!r} in the debug log"
    assert f"sha256:{session.fingerprint}" in log  # the secret is named by its fingerprint only
    assert {record.kind for record in fake.issued()} >= {"access", "session"}
    assert [record for record in fake.issued() if record.secret in log] == []
    assert sp_sandbox.client_secret not in log


def test_second_process_reuses_the_cached_secret(sp_sandbox: Sandbox) -> None:
    """A second `keyring get` answers from the secret cache: no discovery, no token, no exchange."""
    fake = sp_sandbox.fake
    first = sp_sandbox.keyring_get()
    assert first.returncode == 0, first.stderr
    assert fake.count("simple", auth_kind="anonymous", status=401) == 1  # discovery, once
    assert fake.count("session_token", status=200) == 1
    before = {route: fake.count(route) for route in ROUTES}
    seen = len(fake.requests)

    second = sp_sandbox.keyring_get()

    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert {route: fake.count(route) for route in ROUTES} == before
    assert fake.requests[seen:] == []


def test_non_interactive_without_credentials_fails_with_one_line(sandbox: Sandbox) -> None:
    """CI, no credential variables, no az on PATH: exit non-zero at once with one line and the fix."""
    assert "AZURE_CLIENT_ID" not in sandbox.env
    assert not any((Path(entry) / "az").exists() for entry in sandbox.env["PATH"].split(":"))

    result = sandbox.keyring_get(CI="true", timeout=20)  # the timeout is a hang guard, not a benchmark

    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    [line] = lines
    assert ORG in line
    assert "az login" in line or "azure-artifacts-keyring login" in line
    assert sandbox.fake.issued("session") == []
