"""Real-service rules whose product side lives in the provider (being split into per-auth-mode
objects): the fake already refuses as Azure DevOps does; these tests drive only public surfaces
(`service.lookup`, the CLI's `main`, real pip) and are marked `lead_pending` until then.

- a stored PAT revoked on the server is replaced (the validity probe must read a 203 sign-in
  page as "refused", not only a 401), and `login URL` replaces it at once;
- `auth = pat` with an app-only identity: `check` says so, a lookup fails in one line before any
  request to the PAT API ("You can't use service principals or managed identities to create or
  revoke PATs", Microsoft Learn "Manage personal access tokens using API");
- an app-only identity whose session-token exchange is refused falls back to the Entra token as
  the password (as Microsoft's credential provider hands out a service connection's token);
- a `host` section without `tenant`/`authority_host` (Azure DevOps Server) never gets an Entra
  token: it defaults to a static PAT.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests
from helpers import APP_ID, APP_SECRET

from keyrings.azure_artifacts import cli, service
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from helpers import CleanEnv

TIMEOUT = 60
DEAD_PROXY = "http://127.0.0.1:9"


@pytest.fixture
def fake(fake: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch) -> FakeAzure:
    """The shared fake, plus a dead proxy for everything not on loopback (clean_env exempts
    127.0.0.1): nothing may leave the machine, any such request fails at once."""
    clean_env.install(monkeypatch, clean_env(ca=fake.ca_path, HTTPS_PROXY=DEAD_PROXY))
    return fake


def write_config(fake: FakeAzure, clean_env: CleanEnv, text: str) -> dict[str, str]:
    """A CI job's environment for an in-process lookup (and real pip), with `text` as the config."""
    return clean_env.for_lookup(text, ca=fake.ca_path, HTTPS_PROXY=DEAD_PROXY, CI="1")


def section(fake: FakeAzure, body: str) -> str:
    return f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n{body}'


def sp(fake: FakeAzure) -> dict[str, str]:
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


def pip_install(env: dict[str, str], url: str) -> subprocess.CompletedProcess[str]:
    """Real pip, through keyring's import provider, in the same clean environment."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check",
         "--target", str(Path(env["HOME"]).parent / "target"), "--index-url", url, "demo-pkg"],
        env=env, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_revoked_stored_pat_is_replaced_and_login_replaces_it(
    fake: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A user signed in to the Azure CLI (PATs are for users): `az` in clean_env's bin, first on PATH.
    fake.install_cli(clean_env.bin_dir)
    env = write_config(fake, clean_env, section(fake, "credential = azure_cli\nauth = pat\n"))
    url = fake.feed_url("contoso", "main")
    first = service.lookup(url, None, environ=env)
    assert first is not None
    fake.revoke(first[1])
    again = service.lookup(url, None, environ=env)
    assert again is not None and again[1] != first[1] and works_at_feed(fake, again[1])
    assert pip_install(env, url).returncode == 0
    fake.revoke(again[1])
    clean_env.install(monkeypatch, env)
    assert cli.main(["login", url]) == 0
    (live,) = [r for r in fake.issued("pat") if not r.revoked]
    assert works_at_feed(fake, live.secret)


def test_pat_with_an_app_only_identity_is_refused_before_any_pat_request(
    fake: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {
        **write_config(fake, clean_env, section(fake, "credential = environment\nauth = pat\n")),
        **sp(fake),
    }
    clean_env.install(monkeypatch, env)
    assert cli.main(["check"]) == 1
    checked = capsys.readouterr()
    assert "auth: auth = pat cannot work with credential = environment" in checked.out, checked
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    assert fake.count("pat_create") == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1
    assert any(word in lines[0].lower() for word in ("service principal", "app-only", "managed identit"))


def test_refused_session_exchange_falls_back_to_bearer(fake: FakeAzure, clean_env: CleanEnv) -> None:
    env = {**write_config(fake, clean_env, section(fake, "credential = environment\n")), **sp(fake)}
    fake.inject("session_token", status=401, times=10)
    url = fake.feed_url("contoso", "main")
    found = service.lookup(url, None, environ=env)
    assert found is not None
    issued = fake.lookup(found[1])
    assert issued is not None and issued.kind == "access" and works_at_feed(fake, found[1])
    assert pip_install(env, url).returncode == 0


def test_server_host_section_defaults_to_a_static_pat(
    fake: FakeAzure, clean_env: CleanEnv, caplog: pytest.LogCaptureFixture
) -> None:
    from keyrings.azure_artifacts._log import LOGGER_NAME

    fake.add_org("DefaultCollection", kind="server")
    fake.add_feed("DefaultCollection", "feed", packages={"demo-pkg": ["1.0.0"]})
    url = fake.feed_url("DefaultCollection", "feed")
    env = {**write_config(fake, clean_env, f'[artifacts host="{fake.host}"]\n'), **sp(fake)}
    with caplog.at_level("DEBUG", logger=LOGGER_NAME):
        assert service.lookup(url, None, environ=env) is None  # no PAT configured: nothing to give
    # No Entra sign-in was even tried (the default authority would be login.microsoftonline.com).
    tried = [r.getMessage() for r in caplog.records if ": trying" in r.getMessage()]
    assert tried == [] or all("static" in m for m in tried), tried
    pat = fake.server_pat("DefaultCollection")
    found = service.lookup(url, None, environ={**env, "AZURE_DEVOPS_EXT_PAT": pat})
    assert found is not None and found[1] == pat
    assert pip_install({**env, "AZURE_DEVOPS_EXT_PAT": pat}, url).returncode == 0
    assert fake.count("token") == 0 and fake.count("simple", org="DefaultCollection", auth_kind="entra") == 0
