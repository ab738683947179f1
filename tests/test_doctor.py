"""`doctor URL [--json]` against the fake Entra ID + Azure DevOps, with real msal, azure-identity
and keyring: each failure is caused by setting the fake (or the environment) up for it, and the
report must name the step, the cause and the fix, never a secret."""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.credentials import Credential, SimpleCredential

from keyrings.azure_artifacts import cli
from keyrings.azure_artifacts.testing import FakeAzure

APP_ID = "d0c70000-0000-4000-8000-00000000d0c7"
APP_SECRET = "doctor-app-secret-Qx81"
OTHER_TENANT = "0badc0de-0000-4000-8000-000000000bad"
USER = "user@contoso.com"  # the fake `az` is signed in as this user
STEPS = [
    "config",
    "url",
    "keyring",
    "keyring on PATH",
    "state",
    "tls",
    "tenant",
    "credential",
    "exchange",
    "feed",
]
# Everything that could give the lookup a credential or change keyring's choice on this machine.
CLEARED = (
    "CI", "TF_BUILD", "GITHUB_ACTIONS", "AZURE_DEVOPS_EXT_PAT", "AZURE_CLIENT_ID", "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST", "SYSTEM_ACCESSTOKEN", "SYSTEM_OIDCREQUESTURI", "VSS_NUGET_ACCESSTOKEN",
    "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS", "ARTIFACTS_CREDENTIALPROVIDER_FEED_ENDPOINTS",
    "ARTIFACTS_CREDENTIALPROVIDER_EXTERNAL_FEED_ENDPOINTS", "ARTIFACTS_CREDENTIALPROVIDER_ACCESSTOKEN",
    "PYTHON_KEYRING_BACKEND", "KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN", "ARTIFACTS_KEYRING_NONINTERACTIVE_MODE",
    "KEYRINGS_AZURE_ARTIFACTS_LOG",
)  # fmt: skip


class RingAhead(KeyringBackend):
    """Another installed backend; its priority and stored password come from the environment, so it
    is out of every chain (priority below 0) unless a test sets it. keyring lists backends once per
    process, so it must exist from import time on."""

    @properties.classproperty
    def priority(cls) -> float:
        return float(os.environ.get("DOCTOR_TEST_RING_PRIORITY", "-5"))

    def get_credential(self, service: str, username: str | None) -> Credential | None:
        stored = os.environ.get("DOCTOR_TEST_RING_PASSWORD")
        return SimpleCredential("someone", stored) if stored else None

    def get_password(self, service: str, username: str) -> str | None:
        return os.environ.get("DOCTOR_TEST_RING_PASSWORD")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError


@dataclass
class World:
    fake: FakeAzure
    tmp: Path
    monkeypatch: pytest.MonkeyPatch

    def configure(self, body: str = "") -> None:
        head = f'[artifacts host="{self.fake.host}"]\nauthority_host = {self.fake.base_url}\n'
        (self.tmp / "keyringrc.cfg").write_text(head + body)

    def service_principal(self) -> None:
        for name, value in (("AZURE_TENANT_ID", self.fake.default_tenant), ("AZURE_CLIENT_ID", APP_ID),
                            ("AZURE_CLIENT_SECRET", APP_SECRET)):  # fmt: skip
            self.monkeypatch.setenv(name, value)

    def signed_in_user(self) -> None:
        """A person signed in to the (fake) Azure CLI."""
        self.fake.install_cli(self.tmp / "bin")
        self.configure("credential = azure_cli\n")

    def url(self, feed: str = "main", *, upload: bool = False) -> str:
        return self.fake.upload_url("contoso", feed) if upload else self.fake.feed_url("contoso", feed)

    def doctor(self, capsys: pytest.CaptureFixture[str], url: str = "") -> tuple[int, dict[str, Any]]:
        """`doctor --json URL`: exit code and steps by name; no issued secret in any output."""
        code = cli.main(["doctor", "--json", url or self.url()])
        out = capsys.readouterr()
        self.assert_no_secret(out.out + out.err)
        steps = json.loads(out.out)["steps"]
        assert [s["name"] for s in steps] == STEPS
        return code, {s["name"]: s for s in steps}

    def assert_no_secret(self, text: str) -> None:
        for record in self.fake.issued():
            assert record.secret not in text, record
        assert APP_SECRET not in text and self.fake.cli_client_secret not in text


@pytest.fixture
def world(fake_azure_env: FakeAzure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    fake_azure_env.add_app(APP_ID, secret=APP_SECRET)
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    made = World(fake_azure_env, tmp_path, monkeypatch)
    made.configure("credential = environment\n")
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("KEYRINGS_AZURE_ARTIFACTS_CONFIG", str(tmp_path / "keyringrc.cfg"))
    monkeypatch.setenv("KEYRINGS_AZURE_ARTIFACTS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # keyring's own keyringrc.cfg
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    # Only the fake's az (when installed) and this venv's python and `keyring` (with the backend).
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{Path(sys.executable).parent}")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # nothing may leave the machine
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return made


def test_every_step_passes_for_a_service_principal_and_json_has_the_documented_shape(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.service_principal()
    code, steps = world.doctor(capsys)
    assert code == 0, steps
    for step in steps.values():
        assert sorted(step) == ["detail", "fix", "name", "seconds", "status"]
        assert step["status"] == "ok" and step["fix"] == "" and isinstance(step["seconds"], float)
    assert "org contoso, feed main" in steps["url"]["detail"]
    assert f"{world.fake.default_tenant} (discovered)" in steps["tenant"]["detail"]
    assert f"environment: a token for service principal {APP_ID}" in steps["credential"]["detail"]
    assert re.match(
        r"sha256:[0-9a-f]{12} \(session vso.packaging\), issued now, expires ", steps["exchange"]["detail"]
    )
    assert "HTTP 200" in steps["feed"]["detail"]
    assert "has this backend" in steps["keyring on PATH"]["detail"]
    # The feed was really asked, with the session token (Basic), and once anonymously.
    assert world.fake.count("simple", auth_kind="session", status=200) == 1
    assert world.fake.count("session_token", status=200) == 1

    # The human form: one line per step with status, name and seconds; same exit code.
    assert cli.main(["doctor", world.url()]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["ok"] * len(STEPS)
    assert all(" s  " in line for line in lines)


def test_second_run_uses_the_cached_secret_as_a_lookup_would(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.service_principal()
    assert world.doctor(capsys)[0] == 0
    code, steps = world.doctor(capsys)
    assert code == 0 and "from the cache" in steps["exchange"]["detail"]
    assert world.fake.count("session_token") == 1


def test_feed_403_names_the_user_and_the_missing_feed_reader_role(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.signed_in_user()
    world.fake.set_feed_role("contoso", "main", USER, "none")
    code, steps = world.doctor(capsys)
    assert code == 1
    assert [steps[n]["status"] for n in ("credential", "exchange")] == ["ok", "ok"]
    feed = steps["feed"]
    assert feed["status"] == "failed"
    assert f"HTTP 403: {USER} (object id" in feed["detail"] and "contoso/main" in feed["detail"]
    assert f"gives {USER} the Feed Reader role" in feed["fix"]
    assert world.fake.count("simple", status=403) == 1


def test_upload_url_403_asks_for_feed_publisher(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.signed_in_user()
    world.fake.set_feed_role("contoso", "main", USER, "none")
    code, steps = world.doctor(capsys, world.url(upload=True))
    assert code == 1 and "upload URL" in steps["url"]["detail"]
    assert "Feed Publisher (Contributor) role" in steps["feed"]["fix"]


def test_reader_role_reads_an_upload_url_and_says_what_a_get_cannot_check(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.signed_in_user()
    world.fake.set_feed_role("contoso", "main", USER, "reader")
    code, steps = world.doctor(capsys, world.url(upload=True))
    assert code == 0
    assert "publishing needs Feed Publisher (Contributor)" in steps["feed"]["detail"]


def test_service_principal_without_access_is_named_by_its_app_id(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.service_principal()
    world.fake.set_feed_role("contoso", "main", APP_ID, "none")
    code, steps = world.doctor(capsys)
    assert code == 1
    assert f"service principal {APP_ID}" in steps["feed"]["detail"]
    assert f"gives service principal {APP_ID} the Feed Reader role" in steps["feed"]["fix"]


def test_wrong_tenant_pinned_is_caught_by_asking_the_feed(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.service_principal()
    world.configure(f"credential = environment\ntenant = {OTHER_TENANT}\n")
    code, steps = world.doctor(capsys)
    assert code == 1
    tenant = steps["tenant"]
    assert tenant["status"] == "failed"
    assert f"tenant {OTHER_TENANT} is pinned by" in tenant["detail"]
    assert world.fake.default_tenant in tenant["detail"]
    assert tenant["fix"].startswith(f"set tenant = {world.fake.default_tenant} in [artifacts host=")


def test_python_keyring_backend_disables_the_plugin(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world.service_principal()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    code, steps = world.doctor(capsys)
    assert code == 1
    assert steps["keyring"]["status"] == "failed"
    assert "keyring is disabled: PYTHON_KEYRING_BACKEND" in steps["keyring"]["detail"]
    assert steps["keyring"]["fix"] == "unset PYTHON_KEYRING_BACKEND"
    assert steps["feed"]["status"] == "ok"  # the credential itself works: only keyring's route is cut

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    _code, steps = world.doctor(capsys)
    assert "keyring uses only that backend and loads no plugin" in steps["keyring"]["detail"]

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.chainer.ChainerBackend")
    _code, steps = world.doctor(capsys)
    assert steps["keyring"]["status"] == "ok", steps["keyring"]


def test_a_backend_with_a_higher_priority(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world.service_principal()
    name = f"{RingAhead.__module__}.RingAhead"
    monkeypatch.setenv("DOCTOR_TEST_RING_PRIORITY", "9.95")  # the chainer (10) asks it before us
    _code, steps = world.doctor(capsys)
    assert steps["keyring"]["status"] == "ok", steps["keyring"]
    assert steps["keyring"]["detail"].startswith("keyring's chainer asks this backend (priority 9.9;")
    assert f"{name} 9.95" in steps["keyring"]["detail"]

    monkeypatch.setenv("DOCTOR_TEST_RING_PASSWORD", "stored-long-ago")
    code, steps = world.doctor(capsys)
    assert code == 1
    assert (
        steps["keyring"]["detail"]
        == f"{name} (priority 9.95) answers first: it stores a credential for this URL"
    )
    assert steps["keyring"]["fix"] == f"delete it: keyring del {world.url()} USERNAME"

    monkeypatch.setenv("DOCTOR_TEST_RING_PRIORITY", "20")  # above the chainer: keyring uses it alone
    _code, steps = world.doctor(capsys)
    assert steps["keyring"]["detail"] == f"keyring uses {name} alone (priority 20 > 9.9)"


def test_default_keyring_in_keyrings_config_disables_the_plugin(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.service_principal()
    config = world.tmp / "config" / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text("[backend]\ndefault-keyring = keyring.backends.null.Keyring\n")
    code, steps = world.doctor(capsys)
    assert code == 1
    assert steps["keyring"]["detail"].startswith(f"keyring is disabled: default-keyring in {config}")
    assert steps["keyring"]["fix"] == f"remove default-keyring from [backend] in {config}"


def test_a_keyring_on_path_without_the_backend(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.service_principal()
    script = world.tmp / "bin" / "keyring"
    script.write_text(
        "#!/bin/sh\n"
        'echo "keyring.backends.SecretService.Keyring (priority: 5)"\n'
        'echo "keyring.backends.chainer.ChainerBackend (priority: -1)"\n'
    )
    script.chmod(0o755)
    code, steps = world.doctor(capsys)
    assert code == 1
    step = steps["keyring on PATH"]
    assert step["status"] == "failed"
    assert f"{script} lacks this backend (it has: keyring.backends.SecretService.Keyring," in step["detail"]
    assert "uv tool install keyring --with keyrings.azure-artifacts" in step["fix"]
    assert steps["feed"]["status"] == "ok"


def test_no_keyring_on_path_is_skipped_not_failed(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world.service_principal()
    monkeypatch.setenv("PATH", str(world.tmp / "bin"))
    code, steps = world.doctor(capsys)
    assert code == 0
    assert steps["keyring on PATH"]["status"] == "skipped"
    assert "no `keyring` on PATH" in steps["keyring on PATH"]["detail"]


def test_no_way_to_a_token_in_ci(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world.configure("")
    monkeypatch.setenv("CI", "1")
    code, steps = world.doctor(capsys)
    assert code == 1
    credential = steps["credential"]
    assert credential["status"] == "failed"
    assert credential["detail"] == "shared_cache: no cached sign-in"
    assert credential["fix"].startswith("no way to a token in CI: give the job an identity")
    assert [steps[n]["status"] for n in ("exchange", "feed")] == ["skipped", "skipped"]
    assert steps["exchange"]["detail"] == "step 'credential' failed"
    assert world.fake.count("token") == 0 and world.fake.count("session_token") == 0


def test_a_static_pat_is_handed_over_and_checked_at_the_feed(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world.configure("")
    pat = world.fake.server_pat("contoso")  # a PAT made in the web UI
    monkeypatch.setenv("AZURE_DEVOPS_EXT_PAT", pat)
    code, steps = world.doctor(capsys)
    assert code == 0, steps
    assert [steps[n]["status"] for n in ("tenant", "exchange")] == ["skipped", "skipped"]
    assert steps["credential"]["detail"].startswith("static: a configured credential (sha256:")
    assert world.fake.count("simple", auth_kind="pat", status=200) == 1

    world.fake.revoke(pat)
    code, steps = world.doctor(capsys)
    assert code == 1
    assert steps["feed"]["detail"].startswith("the feed refused the static credential sha256:")
    assert "HTTP 401" in steps["feed"]["detail"]


def test_a_feed_without_a_usable_challenge_is_reported(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.service_principal()
    world.fake.add_org("bare", challenge=False)
    world.fake.add_feed("bare", "feed")
    code, steps = world.doctor(capsys, world.fake.feed_url("bare", "feed"))
    assert code == 0, steps  # the service principal names its tenant: signing in works anyway
    assert steps["tenant"]["status"] == "ok"
    assert steps["tenant"]["detail"].startswith("unknown: the feed's 401 named no tenant")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", "http: a token is only ever sent"),
        ("https://pkgs.dev.azure.com:8443/contoso/_packaging/main/pypi/simple/", "on port 8443"),
        ("https://pkgs.dev.azure.com.evil.io/contoso/_packaging/main/pypi/simple/", "look-alike"),
        ("https://evilpkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", "look-alike"),
        ("https://pkgs.dev.azure.com/_apis/contoso", "not a feed URL"),
        ("https://pypi.org/simple/", "not an Azure DevOps host"),
    ],
)
def test_urls_that_are_not_ours_say_why_and_skip_the_rest(
    world: World, capsys: pytest.CaptureFixture[str], url: str, why: str
) -> None:
    code, steps = world.doctor(capsys, url)
    assert code == 1
    assert steps["url"]["status"] == "failed" and why in steps["url"]["detail"], steps["url"]
    assert steps["url"]["fix"]
    assert steps["config"]["status"] == "ok"
    assert all(steps[name]["status"] == "skipped" for name in STEPS[2:])
    assert world.fake.requests == []


def test_an_invalid_config_fails_the_config_step(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.configure("auth = sometimes\n")
    code, steps = world.doctor(capsys)
    assert code == 1
    assert steps["config"]["status"] == "failed" and "auth" in steps["config"]["detail"]
    assert "azure-artifacts-keyring check" in steps["config"]["fix"]
    assert all(steps[n]["status"] == "skipped" for n in ("tenant", "credential", "exchange", "feed"))


def test_a_feed_that_cannot_be_reached_fails_the_tenant_step(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    world.service_principal()
    (world.tmp / "keyringrc.cfg").write_text(
        f'[artifacts host="127.0.0.1:{port}"]\nauthority_host = {world.fake.base_url}\n'
        "credential = environment\ntimeout = 1\n"
    )
    url = f"https://127.0.0.1:{port}/contoso/_packaging/main/pypi/simple/"
    code, steps = world.doctor(capsys, url)
    assert code == 1
    tenant = steps["tenant"]
    assert tenant["status"] == "failed", tenant
    assert tenant["detail"].startswith(f"could not ask the feed for its tenant: GET {url}: connection failed")
    assert "HTTPS_PROXY" in tenant["fix"]
