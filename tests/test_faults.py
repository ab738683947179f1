"""Fault injection against the fake, through `service.lookup`: what a build sees when the network,
the token service or the local cache misbehaves. Every wait is bounded (config `timeout = 1`)."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import pytest

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from conftest import CleanEnv, Logged

APP_ID = "0f0f0f0f-0000-4000-8000-00000000f001"
APP_SECRET = "faults-app-secret-value"


@pytest.fixture
def fake(clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAzure]:
    """The fake, and os.environ clean (no identity variable, nothing probes 169.254.169.254) but its CA."""
    with FakeAzure() as server:
        server.add_org("contoso")
        server.add_feed("contoso", "main")
        server.add_app(APP_ID, secret=APP_SECRET)
        clean_env.install(monkeypatch, clean_env(ca=server.ca_path))
        yield server


def make_env(
    fake: FakeAzure, clean_env: CleanEnv, config: str = "", *, sp: bool = True, **extra: str
) -> dict[str, str]:
    """A CI job's environment for an in-process lookup: a config for the fake, a service principal."""
    config = f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n{config}'
    env = clean_env.for_lookup(config, ca=fake.ca_path, CI="1")
    if sp:
        env.update(
            AZURE_TENANT_ID=fake.default_tenant, AZURE_CLIENT_ID=APP_ID, AZURE_CLIENT_SECRET=APP_SECRET
        )
    env.update(extra)
    return env


def lookup(fake: FakeAzure, env: dict[str, str]) -> Optional[tuple[str, str]]:
    return service.lookup(fake.feed_url("contoso", "main"), None, environ=env)


def valid(fake: FakeAzure, found: Optional[tuple[str, str]], kind: str = "session") -> bool:
    issued = None if found is None else fake.lookup(found[1])
    return issued is not None and issued.kind == kind and not issued.revoked


# -- transient and persistent server faults ------------------------------------------------


def test_503_burst_on_the_token_service_is_retried(fake: FakeAzure, clean_env: CleanEnv) -> None:
    fake.inject("session_token", status=503, times=2)
    assert valid(fake, lookup(fake, make_env(fake, clean_env)))
    assert fake.count("session_token") == 3
    assert fake.count("session_token", status=200) == 1


def test_503_burst_on_entra_is_retried(fake: FakeAzure, clean_env: CleanEnv) -> None:
    fake.inject("token", status=503, times=2)
    assert valid(fake, lookup(fake, make_env(fake, clean_env)))
    assert fake.count("token", status=503) == 2


def test_persistent_503_gives_up_after_bounded_retries(
    fake: FakeAzure, clean_env: CleanEnv, logged: Logged
) -> None:
    fake.inject("session_token", status=503, times=100)
    assert lookup(fake, make_env(fake, clean_env)) is None
    assert fake.count("session_token") == 4  # first try + 3 retries
    assert any("HTTP 503 after 3 retries" in line for line in logged.warnings()), logged.lines()


def test_429_retry_after_is_honoured(fake: FakeAzure, clean_env: CleanEnv) -> None:
    fake.inject("session_token", status=429, times=1, retry_after=2)
    started = time.monotonic()
    assert valid(fake, lookup(fake, make_env(fake, clean_env)))
    assert time.monotonic() - started >= 2
    assert fake.count("session_token") == 2


@pytest.mark.parametrize(("status", "tries"), [(400, 2), (401, 1), (403, 1)])
def test_auth_refusals_are_not_retried(
    fake: FakeAzure, clean_env: CleanEnv, logged: Logged, status: int, tries: int
) -> None:
    fake.inject("session_token", status=status, times=5)
    found = lookup(fake, make_env(fake, clean_env))
    # 400 is asked once more without validTo (as Microsoft's provider does); nothing else repeats.
    assert fake.count("session_token") == tries
    if status == 400:
        assert found is None
        assert any("contoso" in line or "127.0.0.1" in line for line in logged.warnings()), logged.lines()
    else:
        # A service principal whose exchange is refused hands over its Entra token instead.
        assert valid(fake, found, "access"), found


def test_hanging_token_service_is_bounded_by_the_timeout(
    fake: FakeAzure, clean_env: CleanEnv, logged: Logged
) -> None:
    fake.inject("session_token", hang=20, times=5)
    assert lookup(fake, make_env(fake, clean_env, "timeout = 1\n")) is None
    # A POST that may have reached the server is never sent twice.
    assert fake.arrived("session_token") == 1
    assert any("timed out after 1 s" in line for line in logged.warnings()), logged.lines()


def test_hanging_feed_during_discovery_is_retried(fake: FakeAzure, clean_env: CleanEnv) -> None:
    fake.inject("simple", hang=20, times=1)
    assert valid(fake, lookup(fake, make_env(fake, clean_env, "timeout = 1\n")))
    # The hung GET was cut short and asked again (the fake would have answered it after 20 s).
    assert fake.arrived("simple") == 2 and fake.count("simple") == 1


def test_hanging_entra_is_bounded(fake: FakeAzure, clean_env: CleanEnv) -> None:
    fake.inject("token", hang=20, times=20)
    assert lookup(fake, make_env(fake, clean_env, "timeout = 1\n")) is None
    # The request was cut short (after 20 s the fake would have issued a token) and, as a POST
    # that timed out, not sent again.
    assert fake.arrived("token") == 1 and fake.count("token") == 0


BAD_BODIES = {
    "malformed": (b'{"token": "abc", ', "application/json"),
    "truncated": (b'{"token": "abc", "validTo": "2030-01-01T00:00:00Z", "sco', "application/json"),
    "wrong-type": (b"<html><body>Sign in</body></html>", "text/html"),
    "not-an-object": (b'["token"]', "application/json"),
    "empty": (b"", "application/json"),
}


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_bad_token_service_answers_are_one_clear_line(
    fake: FakeAzure, clean_env: CleanEnv, logged: Logged, name: str
) -> None:
    body, content_type = BAD_BODIES[name]
    fake.inject("session_token", status=200, body=body, content_type=content_type)
    env = make_env(fake, clean_env)
    assert lookup(fake, env) is None
    assert logged.warnings() and all("\n" not in line for line in logged.warnings())
    assert "Traceback" not in "\n".join(logged.lines())
    # Nothing half-parsed was cached: the next lookup starts over and works.
    assert valid(fake, lookup(fake, env))


@pytest.mark.parametrize("name", ["malformed", "wrong-type"])
def test_bad_entra_answers_fail_cleanly(
    fake: FakeAzure, clean_env: CleanEnv, logged: Logged, name: str
) -> None:
    body, content_type = BAD_BODIES[name]
    fake.inject("token", status=200, body=body, content_type=content_type, times=10)
    assert lookup(fake, make_env(fake, clean_env)) is None
    assert logged.warnings()


def test_missing_ca_bundle_fails_cleanly(
    tmp_path: Path, clean_env: CleanEnv, fake: FakeAzure, logged: Logged, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "gone.pem"))  # requests reads os.environ
    env = make_env(fake, clean_env, REQUESTS_CA_BUNDLE=str(tmp_path / "gone.pem"))
    assert lookup(fake, env) is None
    missing = f"REQUESTS_CA_BUNDLE names {tmp_path / 'gone.pem'}, which does not exist"
    assert any(missing in line for line in logged.warnings()), logged.lines()


def test_unreachable_server_fails_fast(
    tmp_path: Path, clean_env: CleanEnv, fake: FakeAzure, logged: Logged
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(Path(fake.ca_path).read_bytes())
    env = make_env(fake, clean_env, "timeout = 1\n", REQUESTS_CA_BUNDLE=str(ca))
    url = fake.feed_url("contoso", "main")
    fake.stop()
    assert service.lookup(url, None, environ=env) is None  # connection refused: no wait involved
    assert logged.warnings()


# -- user sign-in: refresh refused ------------------------------------------------------------


def _expire_msal_access_tokens(state: Path) -> None:
    path = state / "msal_token_cache.bin"
    data = json.loads(path.read_text())
    for entry in data.get("AccessToken", {}).values():
        entry["expires_on"] = str(int(time.time()) - 10)
    path.write_text(json.dumps(data))
    later = time.time() + 5
    os.utime(path, (later, later))


def _signed_in_then_refresh_refused(fake: FakeAzure, clean_env: CleanEnv, how: str) -> dict[str, str]:
    """Sign in with the device code, then make the refresh token useless and the cache cold."""
    fake.device_user(approve_after_polls=1)
    env = make_env(fake, clean_env, "interactive = always\n", sp=False)
    env.pop("CI")
    assert valid(fake, lookup(fake, env))
    assert fake.count("devicecode") == 1
    if how == "revoked":
        for issued in fake.issued("refresh"):
            fake.revoke(issued.secret)
    else:
        fake.advance(fake.refresh_token_lifetime + 86400)
    _expire_msal_access_tokens(clean_env.state_dir)
    assert service.forget(fake.feed_url("contoso", "main"), env)
    return env


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_refused_refresh_non_interactive_is_one_clear_line(
    fake: FakeAzure, clean_env: CleanEnv, logged: Logged, how: str
) -> None:
    env = _signed_in_then_refresh_refused(fake, clean_env, how)
    env = {**env, "CI": "1", "KEYRINGS_AZURE_ARTIFACTS_CONFIG": _rewrite(env, "interactive = never\n")}
    fake.clear_log()
    assert lookup(fake, env) is None
    # Fails at once: one refresh attempt, refused; no prompt, no polling, no retry.
    assert fake.arrived("devicecode") == 0  # never prompts without a person to answer
    assert fake.arrived("token") == 1 == fake.count("token", grant_type="refresh_token", status=400)
    line = logged.warnings()[-1]
    assert "contoso" in line and "azure-artifacts-keyring login" in line, logged.lines()


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_refused_refresh_interactive_signs_in_again(fake: FakeAzure, clean_env: CleanEnv, how: str) -> None:
    env = _signed_in_then_refresh_refused(fake, clean_env, how)
    assert valid(fake, lookup(fake, env))
    assert fake.count("devicecode") == 2
    assert fake.count("token", grant_type="refresh_token", status=400) >= 1


def _rewrite(env: dict[str, str], extra: str) -> str:
    path = Path(env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"])
    text = path.read_text().replace("interactive = always\n", "")
    new = path.with_name("noninteractive.cfg")
    new.write_text(text + extra)
    return str(new)


# -- PATs revoked server-side ---------------------------------------------------------------


def _person(fake: FakeAzure, clean_env: CleanEnv) -> dict[str, str]:
    """PATs need a person: signed in once (device code), found again in the MSAL cache."""
    from test_pats_fake import sign_in

    env = make_env(fake, clean_env, "auth = pat\ncredential = shared_cache\n", sp=False)
    sign_in(fake, env)
    return env


def test_revoked_pat_recovers_after_logout(fake: FakeAzure, clean_env: CleanEnv) -> None:
    env = _person(fake, clean_env)
    first = lookup(fake, env)
    assert valid(fake, first, "pat")
    assert first is not None
    fake.revoke(first[1])
    from keyrings.azure_artifacts.context import Context
    from keyrings.azure_artifacts.lookup import forget

    resolution = service.resolve(fake.feed_url("contoso", "main"), env)
    assert resolution is not None
    assert forget(resolution, Context(env), revoke=False)
    again = lookup(fake, env)
    assert valid(fake, again, "pat") and again != first


def test_revoked_pat_is_replaced_on_the_next_lookup(fake: FakeAzure, clean_env: CleanEnv) -> None:
    env = _person(fake, clean_env)
    first = lookup(fake, env)
    assert first is not None
    fake.revoke(first[1])
    again = lookup(fake, env)
    assert again is not None and again[1] != first[1]
    assert valid(fake, again, "pat")


# -- the local state ----------------------------------------------------------------------


def _files(state: Path) -> list[Path]:
    return [p for p in state.rglob("*") if p.is_file()]


def test_state_is_private(fake: FakeAzure, clean_env: CleanEnv) -> None:
    assert valid(fake, lookup(fake, make_env(fake, clean_env)))
    state = clean_env.state_dir
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for path in state.rglob("*"):
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    assert not [p for p in _files(state) if p.name.endswith(".tmp")]


CORRUPTIONS = {
    "garbage": lambda p: p.write_bytes(b"\x00\xffnot json"),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "empty": lambda p: p.write_bytes(b""),
    "wrong-shape": lambda p: p.write_text('{"kind": 5, "secret": ["x"]}'),
    "world-readable": lambda p: p.chmod(0o644),
    "foreign-owned": lambda p: os.chown(p, 12345, 12345),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_damaged_cache_files_are_ignored_and_rebuilt(fake: FakeAzure, clean_env: CleanEnv, name: str) -> None:
    if name == "foreign-owned" and os.geteuid() != 0:
        pytest.skip("needs root to give a file away")
    env = make_env(fake, clean_env)
    first = lookup(fake, env)
    assert valid(fake, first)
    state = clean_env.state_dir
    damaged = [p for p in _files(state) if p.suffix in (".json", ".bin")]
    assert damaged
    for path in damaged:
        CORRUPTIONS[name](path)
    again = lookup(fake, env)
    assert valid(fake, again)
    if name != "world-readable":
        assert again != first  # the damaged entry was not trusted: a new secret was made
    for path in _files(state):
        st = path.stat()
        assert st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) == 0o600, path
    assert valid(fake, lookup(fake, env))


# -- what wins, what is cached under which key ----------------------------------------------


def test_a_static_pat_set_later_wins_over_a_cached_session_token(
    fake: FakeAzure, clean_env: CleanEnv
) -> None:
    env = make_env(fake, clean_env)
    assert valid(fake, lookup(fake, env))
    env["AZURE_DEVOPS_EXT_PAT"] = "a-static-pat-from-the-environment"
    assert lookup(fake, env) == ("VssSessionToken", "a-static-pat-from-the-environment")


def test_upload_url_gets_a_write_session_token_even_with_read_scopes_configured(
    fake: FakeAzure, clean_env: CleanEnv
) -> None:
    env = make_env(fake, clean_env, "scopes = vso.packaging\n")
    read = service.lookup(fake.feed_url("contoso", "main"), None, environ=env)
    upload = service.lookup(fake.upload_url("contoso", "main"), None, environ=env)
    assert read is not None and upload is not None and read[1] != upload[1]
    assert fake.lookup(read[1]).scopes == ("vso.packaging",)  # type: ignore[union-attr]
    assert fake.lookup(upload[1]).scopes == ("vso.packaging_write",)  # type: ignore[union-attr]


def test_another_service_principal_never_gets_the_first_ones_cached_secret(
    fake: FakeAzure, clean_env: CleanEnv
) -> None:
    other_id = "0f0f0f0f-0000-4000-8000-00000000f002"
    fake.add_app(other_id, secret="the-other-app-secret")
    first = lookup(fake, make_env(fake, clean_env))
    second = lookup(
        fake, make_env(fake, clean_env, AZURE_CLIENT_ID=other_id, AZURE_CLIENT_SECRET="the-other-app-secret")
    )
    assert valid(fake, first) and valid(fake, second)
    assert first != second
    assert fake.lookup(second[1]).client_id != fake.lookup(first[1]).client_id  # type: ignore[index, union-attr]


def test_an_unwritable_state_directory_costs_the_cache_not_the_secret(
    fake: FakeAzure, clean_env: CleanEnv, logged: Logged
) -> None:
    env = make_env(fake, clean_env)
    (clean_env.state_dir).write_text("a file where the state directory should be")  # even root cannot write
    first = lookup(fake, env)
    assert valid(fake, first)
    assert [line for line in logged.lines() if "cannot write to" in line and "STATE_DIR" in line]
    second = lookup(fake, env)
    assert valid(fake, second) and fake.count("session_token", status=200) == 2
