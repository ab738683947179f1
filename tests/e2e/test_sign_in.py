"""User sign-in end to end: device code once, silent after; tenant discovery at most once;
a bearer org and a session org side by side in one pip run."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from keyrings.azure_artifacts.testing import FakeAzure

from .conftest import PACKAGE, Sandbox

pytestmark = pytest.mark.e2e


def state_dir(sandbox: Sandbox) -> Path:
    return Path(sandbox.env["XDG_DATA_HOME"]) / "python_keyring" / "azure-artifacts"


def test_device_code_once_then_silent_sign_in_in_the_next_process(sandbox: Sandbox) -> None:
    fake = sandbox.fake
    fake.device_code_interval = 0
    fake.device_user(approve_after_polls=1)
    sandbox.write_config(interactive="always")
    first = sandbox.keyring_get()
    assert first.returncode == 0, first.stderr
    secret = first.stdout.rstrip("\n")
    assert first.stdout == secret + "\n" and fake.lookup(secret) is not None
    assert "devicelogin" in first.stderr.lower() or "code" in first.stderr.lower()
    assert fake.count("devicecode") == 1

    # Forget the session token (not the sign-in): the next process must sign in silently.
    shutil.rmtree(state_dir(sandbox) / "secrets")
    shutil.rmtree(state_dir(sandbox) / "fast", ignore_errors=True)
    sandbox.write_config(interactive="never")
    fake.clear_log()
    second = sandbox.keyring_get()
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() and second.stdout.strip() != secret
    record = fake.lookup(second.stdout.strip())
    assert record is not None and record.kind == "session"
    assert fake.count("devicecode") == 0
    assert fake.count("session_token", status=200) == 1


def test_pinned_tenant_never_asks_the_feed(sp_sandbox: Sandbox) -> None:
    fake = sp_sandbox.fake
    sp_sandbox.write_config(tenant=fake.default_tenant)
    done = sp_sandbox.keyring_get()
    assert done.returncode == 0, done.stderr
    assert fake.count("simple") == 0  # no anonymous discovery request to the feed


def test_unpinned_tenant_is_discovered_once_per_org(sp_sandbox: Sandbox) -> None:
    fake = sp_sandbox.fake
    assert sp_sandbox.keyring_get().returncode == 0
    assert fake.count("simple", auth_kind="anonymous") == 1
    shutil.rmtree(state_dir(sp_sandbox) / "secrets")  # a new secret is needed, discovery is not
    fake.clear_log()
    again = sp_sandbox.keyring_get()
    assert again.returncode == 0, again.stderr
    assert fake.count("simple") == 0
    assert fake.count("session_token", status=200) == 1


@pytest.fixture
def second_fake() -> Iterator[FakeAzure]:
    with FakeAzure() as fake:
        fake.add_org("fabrikam")
        fake.add_feed("fabrikam", "tools", packages={"other-pkg": ["2.0.0"]})
        fake.device_code_interval = 0
        fake.device_user(approve_after_polls=1)
        yield fake


def test_bearer_org_and_device_code_session_org_in_one_pip_run(
    sp_sandbox: Sandbox, second_fake: FakeAzure
) -> None:
    first = sp_sandbox.fake
    bundle = sp_sandbox.root / "both-cas.pem"
    bundle.write_text(Path(first.ca_path).read_text() + Path(second_fake.ca_path).read_text())
    sp_sandbox.env.update(REQUESTS_CA_BUNDLE=str(bundle), SSL_CERT_FILE=str(bundle), PIP_CERT=str(bundle))
    sp_sandbox.config_path.write_text(
        f'[artifacts host="{first.host}"]\n'
        f"authority_host = {first.authority_host}\n"
        "auth = bearer\n"
        "credential = environment\n\n"
        f'[artifacts host="{second_fake.host}"]\n'
        f"authority_host = {second_fake.authority_host}\n"
        "auth = session\n"
        "credential = device_code\n"
        "interactive = always\n"
    )
    result = sp_sandbox.run(
        [
            sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir", "--target",
            str(sp_sandbox.root / "both"), "--index-url", sp_sandbox.index_url,
            "--extra-index-url", second_fake.feed_url("fabrikam", "tools"), PACKAGE, "other-pkg",
        ]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (sp_sandbox.root / "both" / "demo_pkg").is_dir()
    assert (sp_sandbox.root / "both" / "other_pkg").is_dir()
    assert first.count("download", status=200, auth_kind="entra") >= 1
    assert first.count("download", status=200, auth_kind="session") == 0
    assert second_fake.count("download", status=200, auth_kind="session") == 1
    assert second_fake.count("devicecode") == 1
    assert first.count("session_token") == 0


def test_logout_all_forgets_the_sign_in_too(sandbox: Sandbox) -> None:
    fake = sandbox.fake
    fake.device_code_interval = 0
    fake.device_user(approve_after_polls=1)
    sandbox.write_config(interactive="always")
    assert sandbox.keyring_get().returncode == 0
    done = sandbox.run([sys.executable, "-m", "keyrings.azure_artifacts", "logout", "--all"])
    assert done.returncode == 0, done.stderr
    assert "sign-in" in done.stdout
    assert not (state_dir(sandbox) / "msal_token_cache.bin").exists()
    sandbox.write_config(interactive="never")
    fake.clear_log()
    after = sandbox.keyring_get()
    assert after.returncode != 0 and after.stdout == ""
    assert "contoso" in after.stderr and fake.count("token") == 0
