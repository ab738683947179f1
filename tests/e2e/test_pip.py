"""Real pip installs from the fake feed with credentials from the backend.

What each test proves is read at the fake: which kind of secret reached the
feed's index and download routes, and with which scopes.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

from keyrings.azure_artifacts.testing import ADO_SCOPE, FakeAzure

from .conftest import Sandbox

pytestmark = pytest.mark.e2e
FEED_ROUTES = ("simple", "download")


def installed_version(target: Path) -> str:
    return (target / "demo_pkg" / "__init__.py").read_text(encoding="utf-8")


def pip_version() -> tuple[int, ...]:
    return tuple(int(part) for part in version("pip").split(".")[:2] if part.isdigit())


def authorised_feed_requests(fake: FakeAzure) -> list[tuple[str, str, tuple[str, ...]]]:
    """(route, kind of secret, scopes) of every feed request the fake let through."""
    return [
        (r.route, r.auth_kind, r.scopes) for r in fake.requests if r.route in FEED_ROUTES and r.status == 200
    ]


def test_pip_import_provider_installs_with_a_session_token(sp_sandbox: Sandbox) -> None:
    """pip's default provider (keyring importable beside pip) gets a vso.packaging session token."""
    result, target = sp_sandbox.pip_install()

    assert result.returncode == 0, result.stderr
    assert '__version__ = "1.0.0"' in installed_version(target)
    fake = sp_sandbox.fake
    seen = authorised_feed_requests(fake)
    assert {route for route, _, _ in seen} == {"simple", "download"}
    assert {(kind, scopes) for _, kind, scopes in seen} == {("session", ("vso.packaging",))}
    # The session token was exchanged once, from the service principal's Entra token.
    assert fake.count("session_token", status=200, auth_kind="entra") == 1
    assert (
        fake.count("token", status=200, grant_type="client_credentials", client_id=sp_sandbox.client_id) == 1
    )


def test_pip_output_carries_no_library_logging(sp_sandbox: Sandbox) -> None:
    """pip's root logger is at INFO: the flows' libraries must not print HTTP traces into pip's output."""
    result, _ = sp_sandbox.pip_install()

    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "Request URL:" not in output
    assert "get_token succeeded" not in output


def test_pip_with_auth_bearer_sends_the_entra_token(sp_sandbox: Sandbox) -> None:
    """`auth = bearer`: the Entra access token itself goes to the feed; no session exchange."""
    sp_sandbox.write_config(auth="bearer")

    result, target = sp_sandbox.pip_install()

    assert result.returncode == 0, result.stderr
    assert '__version__ = "1.0.0"' in installed_version(target)
    fake = sp_sandbox.fake
    seen = authorised_feed_requests(fake)
    assert seen, "no authorised feed request"
    assert {kind for _, kind, _ in seen} == {"entra"}
    assert fake.count("session_token") == 0
    [token] = [r for r in fake.requests if r.route == "token" and r.status == 200]
    assert token.scopes == (ADO_SCOPE,)


def test_pip_subprocess_provider_uses_keyring_on_path(sp_sandbox: Sandbox) -> None:
    """`--keyring-provider subprocess` runs the `keyring` found on PATH outside pip's venv.

    The username is in the index URL: pip < 26.2 asks the CLI only for a known
    username (`keyring get URL USER`); newer pip (`--mode=creds`) works with it too.
    """
    sp_sandbox.add_keyring_wrapper()

    result, target = sp_sandbox.pip_install(
        "--keyring-provider", "subprocess", index_url=sp_sandbox.index_url_with_user()
    )

    assert result.returncode == 0, result.stderr
    assert '__version__ = "1.0.0"' in installed_version(target)
    seen = authorised_feed_requests(sp_sandbox.fake)
    assert seen
    assert {(kind, scopes) for _, kind, scopes in seen} == {("session", ("vso.packaging",))}


def test_pip_subprocess_provider_without_username(sp_sandbox: Sandbox) -> None:
    """Pins what pip needs: from 26.2 (`keyring --mode=creds`) no username; before, it must be in the URL."""
    sp_sandbox.add_keyring_wrapper()

    result, _ = sp_sandbox.pip_install("--keyring-provider", "subprocess")

    if pip_version() >= (26, 2):
        assert result.returncode == 0, result.stderr
        assert sp_sandbox.fake.count("download", status=200, auth_kind="session") == 1
    else:
        assert result.returncode != 0
        assert sp_sandbox.fake.count("session_token") == 0, "older pip never asks the CLI without a username"


def test_pip_without_a_credential_fails_cleanly(sandbox: Sandbox) -> None:
    """No way to a token in CI: pip fails on the 401 and shows our one line, no traceback from us."""
    result, _ = sandbox.pip_install("--no-input", "--keyring-provider", "import")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert sandbox.fake.count("simple", status=200) == 0
