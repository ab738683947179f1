"""Sign-in a person can follow, against the fake: the device-code prompt, `login` naming whom
it signed in as, `--account`/`--force`, `status` listing accounts and hosts, `logout` saying
what it forgot and kept, and a declined sign-in whose reason survives redaction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from test_pats_fake import PatWorld, make_world

from keyrings.azure_artifacts import cli
from keyrings.azure_artifacts.credentials import device_code
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from conftest import CleanEnv


@pytest.fixture
def world(fake_azure: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch) -> PatWorld:
    monkeypatch.setattr("keyrings.azure_artifacts.pat.store.installed_backends", list)
    clean_env.install(monkeypatch, clean_env(ca=fake_azure.ca_path))
    made = make_world(fake_azure, clean_env)
    clean_env.install(monkeypatch, made.env)
    made.sign_out()  # each test signs in itself
    _configure(made, "auth = session\n")
    return made


def _configure(world: PatWorld, body: str, credential: str = "shared_cache, device_code") -> None:
    fake = world.fake
    Path(world.env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"]).write_text(
        f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\ntenant = {fake.default_tenant}\n'
        f"credential = {credential}\n{body}"
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_login_prompts_names_the_feed_waits_and_says_who(
    world: PatWorld, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(device_code, "WAIT_NOTICE_SECONDS", 0.0)
    world.fake.device_user(approve_after_polls=3, username="ada@contoso.com")
    code, out, err = run(capsys, "login", world.url())
    assert code == 0, err
    prompt = next(line for line in err.splitlines() if "enter the code" in line)
    assert prompt.startswith(
        "azure-artifacts: sign-in for Azure DevOps organization 'contoso', feed 'main': "
    )
    waiting = [line for line in err.splitlines() if "waiting for the code" in line]
    assert waiting and all(line.startswith("azure-artifacts: ") for line in waiting)
    assert len(waiting) <= 4  # bounded: about one a second here, one per 15 s by default
    assert "signed in as ada@contoso.com (device_code)" in out
    for record in world.fake.issued():
        assert record.secret not in out + err

    code, out, _ = run(capsys, "login", world.url())  # the cached secret is enough
    assert code == 0 and "no sign-in was needed" in out

    code, out, _ = run(capsys, "status")
    assert f"signed in: ada@contoso.com at {world.fake.host.split(':')[0]}" in out
    assert world.fake.host in out  # the host of the cached secret
    code, out, _ = run(capsys, "status", "--json")
    report = json.loads(out)
    assert set(report) == {"credentials"}
    assert report["credentials"][0]["host"] == world.fake.host


def test_force_and_account_sign_in_again(world: PatWorld, capsys: pytest.CaptureFixture[str]) -> None:
    world.fake.device_user(approve_after_polls=1, username="ada@contoso.com")
    assert run(capsys, "login", world.url())[0] == 0
    world.fake.device_user(approve_after_polls=1, username="bob@contoso.com")
    code, out, err = run(capsys, "login", world.url(), "--force")
    assert code == 0, err
    assert "signed in as bob@contoso.com (device_code)" in out
    code, out, err = run(capsys, "login", world.url(), "--account", "ada@contoso.com")
    assert code == 0, err
    assert "signed in as ada@contoso.com (shared_cache)" in out


def test_a_declined_sign_in_keeps_its_reason_and_says_what_next(
    world: PatWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world.fake.device_user(approve_after_polls=1, deny=True)
    code, out, err = run(capsys, "login", world.url())
    assert code == 1 and out == ""
    (line,) = [line for line in err.splitlines() if line.startswith("azure-artifacts-keyring:")]
    assert "device_code: authorization_declined: AADSTS70000" in line
    assert "***" not in line
    assert "declined" in line and "--account" in line
    assert "azure-artifacts-keyring login" not in line  # never back to the command that failed


def test_logout_says_what_it_forgot_and_kept(world: PatWorld, capsys: pytest.CaptureFixture[str]) -> None:
    world.fake.device_user(approve_after_polls=1)
    assert run(capsys, "login", world.url())[0] == 0
    code, out, _ = run(capsys, "logout", world.url())
    assert code == 0
    assert (
        out.strip()
        == f"{world.url()}: forgot 1 cached credential; kept the sign-in (logout --all forgets it)"
    )
    code, out, _ = run(capsys, "logout", world.url())
    assert "nothing cached; kept the sign-in" in out
    code, out, _ = run(capsys, "logout", "--all", "--revoke")
    assert code == 0 and "PAT" not in out and "every sign-in" in out


def test_logout_revoke_names_pats_when_there_were_some(
    world: PatWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    _configure(world, "auth = pat\n")
    world.fake.device_user(approve_after_polls=1)
    assert run(capsys, "login", world.url())[0] == 0
    code, out, err = run(capsys, "logout", world.url(), "--revoke")
    assert code == 0, err
    assert "1 stored PAT (revoked)" in out and "kept the sign-in" in out


def test_login_names_a_service_principal_by_its_app_id(
    world: PatWorld, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app_id, secret = "5e1f0000-0000-4000-8000-0000000005e1", "sp-secret-Zq18"
    world.fake.add_app(app_id, secret=secret)
    _configure(world, "auth = session\n", credential="environment")
    for name, value in (("AZURE_TENANT_ID", world.fake.default_tenant), ("AZURE_CLIENT_ID", app_id),
                        ("AZURE_CLIENT_SECRET", secret)):  # fmt: skip
        monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "login", world.url())
    assert code == 0, err
    assert f"signed in as service principal {app_id} (environment)" in out
    assert secret not in out + err


def test_login_says_when_the_account_signed_in_is_not_the_one_asked_for(
    world: PatWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world.fake.device_user(approve_after_polls=1, username="bob@contoso.com")
    code, out, err = run(capsys, "login", world.url(), "--account", "ada@contoso.com")
    assert code == 0, err
    assert "signed in as bob@contoso.com" in out
    assert "note: you asked for ada@contoso.com; the sign-in was for bob@contoso.com" in err
