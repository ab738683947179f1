"""Debug logging never shows a secret, whichever way a lookup finds its answer.

In-process, through `service.lookup`, with KEYRINGS_AZURE_ARTIFACTS_LOG=debug and every
logger (ours, msal, azure-identity, urllib3) captured at DEBUG: the cold path, a warm
hit, a secret-cache hit after the warm index is gone, and a stored PAT reused. Each
lookup with a fresh `environ` mapping records its own inputs, as a new process would.
"""

from __future__ import annotations

import logging
import shutil
from typing import TYPE_CHECKING

import pytest

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts._log import LOGGER_NAME
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from helpers import CleanEnv

APP_ID = "5d5d5d5d-0000-4000-8000-00000000d501"
APP_SECRET = "debug-log-app-secret-Vb7"


@pytest.fixture
def debug(
    fake_azure: FakeAzure,
    clean_env: CleanEnv,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> FakeAzure:
    """os.environ clean except the fake's CA and debug logging; every logger captured at DEBUG."""
    import keyring.backend

    clean_env.install(monkeypatch, clean_env(ca=fake_azure.ca_path, KEYRINGS_AZURE_ARTIFACTS_LOG="debug"))
    # PATs go to the 0600 file store, never to a keyring of the machine running the tests.
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: [])
    # The libraries too: an earlier lookup in this process may have quieted them (quiet_libraries).
    for name in (None, LOGGER_NAME, "msal", "azure", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    fake_azure.add_app(APP_ID, secret=APP_SECRET)
    return fake_azure


def lookup_env(fake: FakeAzure, clean_env: CleanEnv, extra: str = "", **env: str) -> dict[str, str]:
    config = f'[artifacts host="{fake.host}"]\nauthority_host = {fake.authority_host}\n{extra}'
    return clean_env(
        config,
        ca=fake.ca_path,
        KEYRINGS_AZURE_ARTIFACTS_STATE_DIR=str(clean_env.state_dir),
        KEYRINGS_AZURE_ARTIFACTS_LOG="debug",
        **env,
    )


def assert_nothing_leaked(
    fake: FakeAzure, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """No secret on stderr/stdout or in any logger's records; device codes see the next test."""
    secrets = {issued.secret for issued in fake.issued() if issued.kind != "device_code"} | {APP_SECRET}
    assert len(secrets) > 2  # the fake did issue tokens: the check below is not empty
    output = capsys.readouterr()
    logged = "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records)
    assert "sha256:" in output.err  # debug logging was on, and says which secret by fingerprint
    for secret in secrets:
        assert secret not in logged
        assert secret not in output.err
    assert output.out == ""
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(LOGGER_NAME))
    for issued in fake.issued("device_code"):
        assert issued.secret not in ours


def test_session_token_routes_log_no_secret(
    debug: FakeAzure,
    clean_env: CleanEnv,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = debug
    url = fake.feed_url("contoso", "main")
    env = lookup_env(
        fake,
        clean_env,
        AZURE_TENANT_ID=fake.default_tenant,
        AZURE_CLIENT_ID=APP_ID,
        AZURE_CLIENT_SECRET=APP_SECRET,
        CI="1",
    )
    cold = service.lookup(url, None, env)
    assert cold is not None and fake.count("session_token") == 1
    again = service.lookup(url, None, env)  # again
    warm = service.lookup(url, None, dict(env))  # the warm index
    assert again == warm == cold
    assert any("warm cache hit" in r.getMessage() for r in caplog.records)
    shutil.rmtree(clean_env.state_dir / "warm")
    fake.clear_log()
    cached = service.lookup(url, None, dict(env))  # no warm index: the full path, the secret cache
    assert cached == cold and fake.count("session_token") == 0
    assert_nothing_leaked(fake, caplog, capsys)


def test_pat_routes_log_no_secret(
    debug: FakeAzure,
    clean_env: CleanEnv,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = debug
    fake.device_user(approve_after_polls=1)
    url = fake.feed_url("contoso", "main")
    env = lookup_env(fake, clean_env, "auth = pat\ninteractive = always\n")
    created = service.lookup(url, None, env)  # device-code sign-in, then a new PAT
    assert created is not None and fake.count("pat_create") == 1
    reused = service.lookup(url, None, dict(env))  # the stored PAT, checked once
    again = service.lookup(url, None, dict(env))
    assert reused == again == created and fake.count("pat_create") == 1
    assert_nothing_leaked(fake, caplog, capsys)


def test_library_debug_logs_do_not_show_the_device_code(
    debug: FakeAzure, clean_env: CleanEnv, caplog: pytest.LogCaptureFixture
) -> None:
    """With KEYRINGS_AZURE_ARTIFACTS_LOG=debug, msal's token cache would log the device code (a
    short-lived code that redeems the pending sign-in) at DEBUG; that logger stays at INFO."""
    fake = debug
    fake.device_user(approve_after_polls=1)
    env = lookup_env(fake, clean_env, "auth = bearer\ninteractive = always\n")
    assert service.lookup(fake.feed_url("contoso", "main"), None, env) is not None
    codes = [issued.secret for issued in fake.issued("device_code")]
    assert codes
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not [code for code in codes if code in logged]
