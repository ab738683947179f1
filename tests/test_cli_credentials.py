"""`login`, `logout` and `status` against the fake: what they cache, forget and revoke, and what they print."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from test_pats_fake import PatWorld, make_world

from keyrings.azure_artifacts import cli
from keyrings.azure_artifacts.app import App
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from conftest import CleanEnv


@pytest.fixture
def world(fake_azure: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch) -> PatWorld:
    """A PatWorld whose clean environment is os.environ too: the CLI reads it."""
    monkeypatch.setattr(
        "keyrings.azure_artifacts.pat.store.installed_backends", list
    )  # never the real keyring
    clean_env.install(monkeypatch, clean_env(ca=fake_azure.ca_path))  # msal signs in through os.environ's CA
    made = make_world(fake_azure, clean_env)
    clean_env.install(monkeypatch, made.env)
    return made


def secrets_of(fake: FakeAzure) -> list[str]:
    return [r.secret for r in fake.issued()]


def assert_no_secret(fake: FakeAzure, text: str) -> None:
    for secret in secrets_of(fake):
        assert secret not in text


def status_json(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert cli.main(["status", "--json"]) == 0
    return list(json.loads(capsys.readouterr().out)["credentials"])


def test_login_creates_and_status_lists_the_pat_without_its_secret(
    world: PatWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["login", world.url()]) == 0
    out = capsys.readouterr()
    assert "logged in to contoso/main: pat (vso.packaging)" in out.out
    assert world.fake.count("pat_create") == 1
    assert cli.main(["login", world.url()]) == 0  # still valid: nothing new
    assert world.fake.count("pat_create") == 1

    (item,) = status_json(capsys)
    (issued,) = world.fake.issued("pat")
    assert item["org"] == "contoso" and item["project"] is None and item["feed"] == "main"
    assert item["kind"] == "pat" and item["scopes"] == ["vso.packaging"]
    assert item["username"] == "VssSessionToken"
    expires = str(item["expires_at"])
    assert expires.endswith("Z") and expires[:10] == cli_date(issued.expires_at)
    assert sorted(item) == ["expires_at", "feed", "host", "kind", "org", "project", "scopes", "username"]

    assert cli.main(["status"]) == 0
    human = capsys.readouterr().out
    assert "contoso" in human and "pat" in human
    assert_no_secret(world.fake, human + out.out + out.err)


def cli_date(timestamp: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")


def test_status_lists_session_tokens_too(world: PatWorld, capsys: pytest.CaptureFixture[str]) -> None:
    world.configure("auth = session\n")
    assert cli.main(["login", world.url()]) == 0
    (item,) = status_json(capsys)
    assert item["kind"] == "session" and item["org"] == "contoso"
    assert_no_secret(world.fake, json.dumps(item))


def test_logout_forgets_without_revoking(world: PatWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["login", world.url()]) == 0
    assert cli.main(["logout", world.url()]) == 0
    assert world.fake.count("pat_revoke") == 0
    assert not any(r.revoked for r in world.fake.issued("pat"))
    assert status_json(capsys) == []


def test_logout_revoke_sends_the_delete(world: PatWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["login", world.url()]) == 0
    (issued,) = world.fake.issued("pat")
    assert cli.main(["logout", world.url(), "--revoke"]) == 0
    assert world.fake.count("pat_revoke", status=204) == 1
    (request,) = [r for r in world.fake.requests if r.route == "pat_revoke"]
    assert request.method == "DELETE" and request.query["authorizationId"] == issued.authorization_id
    assert issued.revoked
    assert status_json(capsys) == []


def test_logout_all_revoke_covers_every_feed(world: PatWorld, capsys: pytest.CaptureFixture[str]) -> None:
    world.fake.add_feed("contoso", "other")
    assert cli.main(["login", world.url()]) == 0
    assert cli.main(["login", world.url(feed="other")]) == 0
    assert len(status_json(capsys)) == 2
    assert cli.main(["logout", "--all", "--revoke"]) == 0
    assert world.fake.count("pat_revoke", status=204) == 2
    assert all(r.revoked for r in world.fake.issued("pat"))
    assert status_json(capsys) == []


def test_revoke_that_cannot_sign_in_keeps_the_pat(
    world: PatWorld, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world.configure("auth = pat\ninteractive = never\n")
    assert cli.main(["login", world.url()]) == 0
    world.sign_out()
    assert cli.main(["logout", world.url(), "--revoke"]) == 1
    assert "contoso" in capsys.readouterr().err
    assert len(status_json(capsys)) == 1  # kept, so the user can retry


def test_usage_and_foreign_urls(world: PatWorld, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["logout"], ["logout", world.url(), "--all"], ["login"]):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        assert exited.value.code == 2
    assert cli.main(["login", "https://example.com/simple/"]) == 1
    assert "not an Azure Artifacts feed URL" in capsys.readouterr().err
    assert cli.main(["status"]) == 0
    assert "no cached credentials" in capsys.readouterr().out


def test_commands_allow_prompts_unless_the_config_says_never(world: PatWorld) -> None:
    resolution = App(dict(world.env)).resolution(world.url())
    assert resolution.settings.interactive == "always"
    world.configure("auth = pat\ninteractive = never\n")
    resolution = App(dict(world.env)).resolution(world.url())
    assert resolution.settings.interactive == "never"
