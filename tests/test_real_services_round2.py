"""What the real services do that a friendly fake did not (second round), and how the product
copes: `connectionData` names the anonymous identity for a refused PAT, an organization refuses
another tenant's token, session tokens live 24 hours at most."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from helpers import APP_ID, APP_SECRET, PatWorld

from keyrings.azure_artifacts.credentials.base import AccessToken
from keyrings.azure_artifacts.pat import mode as pat_mode
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from helpers import CleanEnv


@pytest.fixture
def world(world: PatWorld, monkeypatch: pytest.MonkeyPatch) -> PatWorld:
    """The shared world, with no PAT remembered as accepted by an earlier test."""
    monkeypatch.setattr(pat_mode, "_accepted", set())
    return world


# -- 1. a revoked PAT: connectionData answers 200 + the anonymous identity -------------------------


def test_revoked_pat_is_replaced_by_the_next_plain_lookup_with_one_line(
    world: PatWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = world.fake
    first = world.secret()
    assert first is not None and world.secret() == first  # probed, accepted, reused
    fake.revoke(first)
    pat_mode._accepted.clear()  # the next process: it asks the token service again
    capsys.readouterr()
    again = world.secret()
    assert again is not None and again != first
    assert fake.lookup(again) is not None and not fake.lookup(again).revoked  # type: ignore[union-attr]
    # The refusal was a 200 naming the anonymous identity, not a 401.
    assert fake.count("connection_data", status=200) == 2 and fake.count("connection_data", status=401) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "refused" in err[0] and "replaced" in err[0], err
    assert first not in err[0] and again not in err[0]
    assert fake.count("pat_create") == 2


@pytest.mark.parametrize("how", ["connection refused", "timeout"])
def test_probe_that_cannot_reach_the_service_keeps_the_pat_and_creates_none(
    world: PatWorld, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = world.fake
    world.configure("auth = pat\ntimeout = 1\n")
    first = world.secret()
    assert first is not None
    ctx = world.context()
    if how == "connection refused":
        for key, record in ctx.pat_store().entries():
            stored = ctx.pat_store().get(key)
            assert stored is not None
            ctx.pat_store().put(key, dataclasses.replace(stored, vssps_url="https://127.0.0.1:9/contoso"))
            assert record.org == "contoso"
    else:
        fake.inject("connection_data", hang=3, times=10)
    capsys.readouterr()
    assert world.secret() == first
    assert fake.count("pat_create") == 1 and not any(r.revoked for r in fake.issued("pat"))
    assert "refused" not in capsys.readouterr().err


# -- 6. session tokens: 24 hours at most; validTo follows session_duration --------------------------


def sp_env(fake: FakeAzure, clean_env: CleanEnv, body: str) -> dict[str, str]:
    """A CI job with a service principal in the environment and `body` in its host section."""
    config = f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n{body}'
    return {
        **clean_env.for_lookup(config, ca=fake.ca_path, CI="1"),
        "AZURE_TENANT_ID": fake.default_tenant,
        "AZURE_CLIENT_ID": APP_ID,
        "AZURE_CLIENT_SECRET": APP_SECRET,
    }


@pytest.mark.parametrize(("duration", "expected"), [("2h", 2 * 3600), ("3d", 24 * 3600)])
def test_session_valid_to_follows_session_duration_capped_at_a_day(
    fake: FakeAzure, clean_env: CleanEnv, duration: str, expected: int
) -> None:
    from keyrings.azure_artifacts import service

    env = sp_env(
        fake, clean_env, f"credential = environment\nsession_duration = {duration}\npat_duration = 10d\n"
    )
    found = service.lookup(fake.feed_url("contoso", "main"), None, environ=env)
    assert found is not None
    (issued,) = fake.issued("session")
    assert issued.requested_expires_at is not None
    assert abs(issued.requested_expires_at - (fake.now() + expected)) < 120  # not pat_duration's 10 days


def test_check_and_explain_say_a_longer_session_duration_is_capped(
    fake: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from keyrings.azure_artifacts import cli

    env = sp_env(fake, clean_env, "credential = environment\nsession_duration = 3d\n")
    clean_env.install(monkeypatch, env)
    assert cli.main(["check"]) == 0
    checked = capsys.readouterr()
    assert "session tokens live 24 hours at most" in checked.out + checked.err
    assert cli.main(["explain", fake.feed_url("contoso", "main")]) == 0
    assert "session tokens live 24 hours at most" in capsys.readouterr().out


# -- 3. a person's token the organization refuses: the next flow, never the feed ---------------------


def person_env(fake: FakeAzure, clean_env: CleanEnv, body: str) -> dict[str, str]:
    """`user@contoso.com` signed in once (MSAL's cache under the state dir), and `body` configured."""
    from helpers import sign_in

    env = clean_env.for_lookup("", ca=fake.ca_path)
    sign_in(fake, env, username="user@contoso.com")
    config = f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n{body}'
    Path(env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"]).write_text(config)
    return env


def test_a_person_the_org_refuses_moves_the_chain_to_the_next_flow(
    fake: FakeAzure, clean_env: CleanEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    from keyrings.azure_artifacts import service

    env = person_env(fake, clean_env, "credential = shared_cache, device_code\ninteractive = always\n")
    fake.orgs["contoso"].members = frozenset({"dev@contoso.com"})  # the cached person has no access
    fake.device_user(approve_after_polls=1, username="dev@contoso.com")
    found = service.lookup(fake.feed_url("contoso", "main"), None, environ=env)
    assert found is not None
    issued = fake.lookup(found[1])
    assert issued is not None and issued.kind == "session" and issued.username == "dev@contoso.com"
    assert fake.count("session_token", status=401) == 1 and fake.count("session_token", status=200) == 1
    assert "enter the code" in capsys.readouterr().err


@pytest.mark.parametrize("auth", ["session", "pat"])
def test_a_refused_person_fails_listing_each_attempt_and_never_reaches_the_feed(
    fake: FakeAzure, clean_env: CleanEnv, capsys: pytest.CaptureFixture[str], auth: str
) -> None:
    from keyrings.azure_artifacts import service

    env = person_env(fake, clean_env, f"credential = shared_cache\nauth = {auth}\n")
    fake.orgs["contoso"].members = frozenset({"dev@contoso.com"})
    capsys.readouterr()
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "shared_cache:" in err[0] and "refused the Entra token" in err[0], err
    # The person's Entra token went to the token service only: never to the feed as a password.
    assert fake.count("simple", auth_kind="entra") == 0 and fake.count("download") == 0
    person = [r for r in fake.issued("access") if r.username == "user@contoso.com"]
    assert person and not any(
        r.secret_fingerprint == p.fingerprint for r in fake.requests if r.route == "simple" for p in person
    )


class _Flow:
    def __init__(self, name: str, token: str) -> None:
        self.name = name
        self.token = token

    def get_token(self, scope: str) -> AccessToken:
        return AccessToken(self.token, 2_000_000_000)


def test_chain_accept_refusal_tries_the_next_flow_and_lists_every_attempt() -> None:
    from keyrings.azure_artifacts.credentials import chain
    from keyrings.azure_artifacts.errors import ChainFailed, ServiceError, TokenRefused

    seen: list[str] = []

    def accept(name: str, token: AccessToken) -> None:
        seen.append(name)
        if token.token == "refused":
            raise TokenRefused("the org refused it")

    flows = [_Flow("a", "refused"), _Flow("b", "good"), _Flow("c", "never")]
    assert chain.run(flows, "contoso", "fix", "scope", accept) == ("b", AccessToken("good", 2_000_000_000))  # type: ignore[arg-type]
    assert seen == ["a", "b"]
    with pytest.raises(ChainFailed) as failed:
        chain.run([_Flow("a", "refused"), _Flow("b", "refused")], "contoso", "fix", "s", accept)  # type: ignore[list-item]
    assert failed.value.attempts == [("a", "the org refused it"), ("b", "the org refused it")]
    assert not failed.value.exhausted  # tried and refused, not merely unavailable

    def broken(name: str, token: AccessToken) -> None:
        raise ServiceError("HTTP 500")  # an outage is not a refusal: stop, do not try more flows

    with pytest.raises(ServiceError):
        chain.run(flows, "contoso", "fix", "scope", broken)  # type: ignore[arg-type]


# -- 5. a service identity's exchange: any 4xx, 203 or sign-in redirect → its Entra token ----------


@pytest.mark.parametrize(("status", "times"), [(400, 2), (404, 1), (401, 1), (203, 1)])
def test_service_identity_refused_exchange_hands_over_its_token_and_remembers_for_a_day(
    fake: FakeAzure,
    clean_env: CleanEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    status: int,
    times: int,
) -> None:
    from keyrings.azure_artifacts import cli, service
    from keyrings.azure_artifacts.modes.session import REMEMBER_REFUSAL, refusal_key, refusals

    env = sp_env(fake, clean_env, "credential = environment\n")
    body = b"<html>Sign in</html>" if status == 203 else None
    fake.inject(
        "session_token", status=status, times=times, body=body, content_type="text/html" if body else None
    )
    url = fake.feed_url("contoso", "main")
    found = service.lookup(url, None, environ=env)
    assert found is not None
    issued = fake.lookup(found[1])
    assert issued is not None and issued.kind == "access"  # the Entra token itself
    asked = fake.count("session_token")
    clean_env.install(monkeypatch, env)
    capsys.readouterr()
    assert cli.main(["status"]) == 0
    assert "session-token exchange refused" in capsys.readouterr().out
    # A later cold lookup (secret cache gone) goes straight to bearer: no refused request again.
    for path in (clean_env.state_dir / "secrets").glob("*.json"):
        path.unlink()
    again = service.lookup(url, None, environ=env)
    assert again is not None and fake.lookup(again[1]).kind == "access"  # type: ignore[union-attr]
    assert fake.count("session_token") == asked
    assert cli.main(["explain", url]) == 0
    assert "Exchange  environment: its Entra token is the password" in capsys.readouterr().out
    # A day later the exchange is asked again.
    key = refusal_key(fake.host, "contoso", "environment")
    assert refusals(clean_env.state_dir, lambda: fake.now() + REMEMBER_REFUSAL - 60).get(key) is not None
    assert refusals(clean_env.state_dir, lambda: fake.now() + REMEMBER_REFUSAL + 60).get(key) is None


def test_service_identity_exchange_outage_is_an_error_not_a_bearer(
    fake: FakeAzure, clean_env: CleanEnv
) -> None:
    from keyrings.azure_artifacts import service
    from keyrings.azure_artifacts.modes.session import REFUSALS_FILE

    env = sp_env(fake, clean_env, "credential = environment\n")
    fake.inject("session_token", status=503, times=20)
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    assert not (clean_env.state_dir / REFUSALS_FILE).exists()
    assert fake.count("simple", auth_kind="entra") == 0


@pytest.mark.parametrize(
    ("error", "bearer"),
    [
        ("refused", True),
        (400, True),
        (404, True),
        (429, True),
        (203, True),
        (500, False),
        (503, False),
        (None, False),
        ("other", False),
    ],
)
def test_bearer_instead_reads_which_exchange_failures_say_no(error: object, bearer: bool) -> None:
    from keyrings.azure_artifacts.errors import AzureArtifactsError, ServiceError, TokenRefused
    from keyrings.azure_artifacts.modes.session import bearer_instead

    exc: AzureArtifactsError
    if error == "refused":
        exc = TokenRefused("refused (HTTP 401)")
    elif error == "other":
        exc = AzureArtifactsError("timed out")
    else:
        exc = ServiceError("HTTP x", status=error)  # type: ignore[arg-type]
    assert (bearer_instead(exc) is not None) is bearer


# -- 8. the Windows broker with personal accounts -----------------------------------------------------


def test_broker_sign_in_enables_msa_passthrough(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The broker runs on Windows only: a small stand-in for msal's application records the call
    (msal 1.39 takes `enable_msa_passthrough` in acquire_token_interactive, for the broker only)."""
    import inspect

    import msal

    from keyrings.azure_artifacts.credentials import broker
    from keyrings.azure_artifacts.credentials.base import FlowOptions

    source = inspect.getsource(msal.PublicClientApplication.acquire_token_interactive)
    assert "enable_msa_passthrough" in source  # msal still reads the keyword we pass
    calls: list[dict[str, object]] = []

    class App:
        CONSOLE_WINDOW_HANDLE = object()

        def get_accounts(self, username: object = None) -> list[object]:
            return []

        def acquire_token_interactive(self, scopes: list[str], **kwargs: object) -> dict[str, object]:
            calls.append(kwargs)
            return {"access_token": "t", "expires_in": 3600, "token_type": "Bearer"}

    monkeypatch.setattr(broker, "application", lambda options, broker: App())
    options = FlowOptions(org="contoso", environ={}, interactive=True, state_dir=tmp_path)
    broker.BrokerFlow(options).fetch("499b84ac-1321-427f-aa17-267ca6975798/.default")
    assert calls and calls[0]["enable_msa_passthrough"] is True


# -- 9. pip in CI: --no-input / PIP_NO_INPUT with keyring-provider auto never asks keyring -----------


def test_setup_pip_writes_subprocess_when_that_pips_python_cannot_import_the_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stat

    from keyrings.azure_artifacts import tool_setup

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = bin_dir / "python"
    python.write_text("#!/bin/sh\nexit 1\n")  # a Python without keyring or this backend
    (bin_dir / "pip").write_text(f"#!{python}\n# pip\n")
    for path in (python, bin_dir / "pip"):
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    env = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config"), "PATH": str(bin_dir)}
    monkeypatch.delenv("PIP_CONFIG_FILE", raising=False)
    url = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"
    planned = tool_setup.prepare(url, "pip", cwd=tmp_path, environ=env)
    [edit] = planned.edits
    assert "keyring-provider = subprocess" in edit.new
    assert any("cannot import this backend" in note and "keyring" in note for note in planned.notes)
    # The site configuration is this Python's, which imports the backend: `import`.
    [site] = tool_setup.prepare(url, "pip", cwd=tmp_path, environ=env, site=True).edits
    assert "keyring-provider = import" in site.new


@pytest.mark.parametrize(
    ("environ", "provider", "never"),
    [
        ({"PIP_NO_INPUT": "1"}, "auto", True),
        ({"PIP_NO_INPUT": "true"}, None, True),
        ({"PIP_NO_INPUT": "1"}, "import", False),
        ({"PIP_NO_INPUT": "1"}, "subprocess", False),
        ({"PIP_NO_INPUT": "0"}, "auto", False),
        ({}, "auto", False),
    ],
)
def test_pip_never_asks_keyring_without_input_and_provider_auto(
    environ: dict[str, str], provider: str | None, never: bool
) -> None:
    from keyrings.azure_artifacts.keyring_checks import pip_never_asks

    assert bool(pip_never_asks(environ, provider)) is never


def test_doctor_flags_pip_no_input_with_provider_auto(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keyrings.azure_artifacts.keyring_checks import pip_input

    monkeypatch.delenv("PIP_CONFIG_FILE", raising=False)
    monkeypatch.setattr("sys.prefix", str(tmp_path / "prefix"))  # no site pip.conf
    env = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config"), "PIP_NO_INPUT": "1"}
    status, detail, fix = pip_input(env)
    assert status == "failed" and "never asks keyring" in detail and "--tool pip" in fix
    conf = tmp_path / "config" / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("[global]\nkeyring-provider = import\n")
    assert pip_input(env)[0] == "ok"
    assert pip_input({**env, "PIP_KEYRING_PROVIDER": "auto"})[0] == "failed"


def test_a_bare_bearer_challenge_reads_as_a_personal_account_organization() -> None:
    from keyrings.azure_artifacts.discovery import NULL_TENANT, parse_challenge

    assert parse_challenge(
        [("WWW-Authenticate", "Bearer"), ("WWW-Authenticate", "Basic realm=x")]
    ).tenant == (NULL_TENANT)
    real = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    headers = [("WWW-Authenticate", "Bearer"), ("X-VSS-ResourceTenant", real)]
    assert parse_challenge(headers).tenant == real  # a named tenant still wins


@pytest.mark.parametrize(
    ("auth", "duration", "says"),
    [
        ("session", 86400, False),
        ("session", 86401, True),
        ("pat", 7 * 86400, False),
        ("session", None, False),
    ],
)
def test_session_capped_only_for_longer_session_durations(
    auth: str, duration: int | None, says: bool
) -> None:
    from keyrings.azure_artifacts.config.settings import session_capped

    assert bool(session_capped(auth, duration)) is says


# -- 10. doctor on a 403: the scopes, or the feed role -----------------------------------------------


@pytest.mark.parametrize(
    ("scopes", "upload", "problem"),
    [
        (("vso.packaging",), False, ""),
        (("vso.packaging",), True, "cannot upload"),
        (("vso.packaging_write",), True, ""),
        (("vso.code",), False, "cannot read"),
        (("vso.code", "vso.packaging_manage"), True, ""),
        ((), False, "cannot read"),
    ],
)
def test_scope_problem_names_what_the_scopes_cannot_do(
    scopes: tuple[str, ...], upload: bool, problem: str
) -> None:
    from keyrings.azure_artifacts.feed_access import scope_problem

    found = scope_problem(scopes, upload)
    assert (problem in found) if problem else found == ""
