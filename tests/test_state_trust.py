"""State that others can write is never trusted: a state directory (or one above it) another user
owns or may write is refused in one line and never written; state files are opened without
following symlinks; the MSAL cache lock dies with its process; `logout --all` clears a sign-in
kept in the OS keyring."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from helpers import APP_ID, APP_SECRET, options, token_via

from keyrings.azure_artifacts import service, statefs
from keyrings.azure_artifacts.app import App
from keyrings.azure_artifacts.credentials import _msal_cache, chain
from keyrings.azure_artifacts.errors import CredentialUnavailable
from keyrings.azure_artifacts.microsoft import ADO_SCOPE
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from helpers import CleanEnv, Logged

posix_only = pytest.mark.skipif(os.name != "posix", reason="owners and mode bits mean nothing on Windows")
needs_root = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0, reason="chown to another user needs root"
)
NOBODY = 65534
CACHE = "msal_token_cache.bin"


def lookup_env(fake: FakeAzure, clean_env: CleanEnv, state: Path) -> dict[str, str]:
    config = f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n'
    env = clean_env.for_lookup(config, ca=fake.ca_path, CI="1", KEYRINGS_AZURE_ARTIFACTS_STATE_DIR=str(state))
    env.update(AZURE_TENANT_ID=fake.default_tenant, AZURE_CLIENT_ID=APP_ID, AZURE_CLIENT_SECRET=APP_SECRET)
    return env


# -- the rule, as a table ----------------------------------------------------------------------


def _st(uid: int, mode: int) -> os.stat_result:
    return os.stat_result((stat.S_IFDIR | mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))


@pytest.mark.parametrize(
    ("uid", "mode", "own", "refused"),
    [
        (1000, 0o700, True, False),  # ours, private
        (1000, 0o755, True, False),  # ours, readable: files inside are 0600
        (1000, 0o770, True, True),  # ours, group-writable
        (1000, 0o1777, True, True),  # sticky does not help the state dir itself
        (0, 0o700, True, True),  # root's, not ours
        (0, 0o755, False, False),  # /home, /
        (0, 0o1777, False, False),  # /tmp: others cannot replace our entry in a sticky dir
        (0, 0o777, False, True),  # world-writable, not sticky
        (1000, 0o775, False, True),  # our own, but the group may rename our directory
        (2000, 0o755, False, True),  # another user's: they may rename our directory
    ],
)
def test_trust_rule(uid: int, mode: int, own: bool, refused: bool) -> None:
    assert (statefs.trust_problem(_st(uid, mode), 1000, own) is not None) is refused


# -- end to end ------------------------------------------------------------------------------


def _refused_in_one_line(fake: FakeAzure, env: dict[str, str], logged: Logged, path: Path, fix: str) -> None:
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    warnings = logged.warnings()
    assert len(warnings) == 1, warnings
    assert str(path) in warnings[0] and fix in warnings[0] and "\n" not in warnings[0]
    assert fake.count("token") == 0 and fake.count("session_token") == 0  # nothing obtained


@posix_only
def test_world_writable_state_directory_is_refused_and_never_written(
    fake: FakeAzure, clean_env: CleanEnv, logged: Logged
) -> None:
    state = clean_env.root / "shared"
    state.mkdir()
    state.chmod(0o777)
    _refused_in_one_line(fake, lookup_env(fake, clean_env, state), logged, state, "chmod go-w")
    assert list(state.iterdir()) == []


@needs_root
def test_state_directory_of_another_user_is_refused_everywhere(
    fake: FakeAzure,
    clean_env: CleanEnv,
    logged: Logged,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = clean_env.root / "theirs"
    state.mkdir(mode=0o700)
    os.chown(state, NOBODY, NOBODY)
    env = lookup_env(fake, clean_env, state)
    _refused_in_one_line(fake, env, logged, state, "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR")
    assert list(state.iterdir()) == []
    steps = {s.name: s for s in App(env).doctor(fake.feed_url("contoso", "main"))}
    assert steps["state"].status == "failed" and f"uid {NOBODY}" in steps["state"].detail
    assert steps["credential"].status == "skipped"
    from keyrings.azure_artifacts import cli

    clean_env.install(monkeypatch, env)
    capsys.readouterr()
    code = cli.main(["status"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1 and str(state) in err, err


@posix_only
def test_a_directory_above_that_others_may_write_is_refused_unless_sticky(
    fake: FakeAzure, clean_env: CleanEnv, logged: Logged
) -> None:
    shared = clean_env.root / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # anyone could rename state/ away and put their own in its place
    state = shared / "state"
    _refused_in_one_line(fake, lookup_env(fake, clean_env, state), logged, shared, "chmod go-w")
    assert not state.exists()
    # Sticky, like /tmp: others cannot touch our entry, so a private directory inside is fine.
    # (Owned by us here, or root for /tmp: never another user.)
    shared.chmod(0o1777)
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=lookup_env(fake, clean_env, state))
    assert stat.S_IMODE(state.stat().st_mode) == 0o700


# -- symlinks ----------------------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize(
    "name", ["secrets/" + "a" * 64 + ".json", "warm/x.json", "pats/x.json", "discovery.json"]
)
def test_json_state_files_never_follow_a_symlink(tmp_path: Path, name: str) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text('{"planted": true}')
    target.chmod(0o600)
    path = tmp_path / "state" / name
    path.parent.mkdir(parents=True, mode=0o700)
    path.symlink_to(target)
    assert statefs.read_json(path) is None  # not read
    statefs.atomic_write_json(path, {"ours": 1})  # replaces the link itself
    assert target.read_text() == '{"planted": true}' and not path.is_symlink()
    lock = path.with_name("x.lock")
    lock.symlink_to(tmp_path / "lock-target")
    with statefs.file_lock(lock, 1.0):
        pass
    assert not (tmp_path / "lock-target").exists()  # a planted lock symlink is not followed either


@posix_only
def test_a_symlink_planted_at_the_msal_cache_is_not_followed(fake: FakeAzure, tmp_path: Path) -> None:
    # Someone else's sign-in, complete with refresh token, prepared at a path they control.
    theirs = tmp_path / "theirs"
    fake.device_user(approve_after_polls=1, username="mallory@contoso.com")
    token_via("device_code", options(fake, {}, interactive=True, state_dir=theirs))
    planted = (theirs / CACHE).read_bytes()
    _msal_cache_forget()

    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / CACHE).symlink_to(theirs / CACHE)
    with pytest.raises(CredentialUnavailable):  # their account is not read through the link
        token_via("shared_cache", options(fake, {}, state_dir=state))
    fake.device_user(approve_after_polls=1, username="user@contoso.com")
    token_via("device_code", options(fake, {}, interactive=True, state_dir=state))
    assert (theirs / CACHE).read_bytes() == planted  # ...nor is ours written into their file
    assert not (state / CACHE).is_symlink() and stat.S_IMODE((state / CACHE).stat().st_mode) == 0o600


def _msal_cache_forget() -> None:
    from keyrings.azure_artifacts.credentials import msal_user

    msal_user._caches.clear()
    msal_user._apps.clear()


# -- the lock --------------------------------------------------------------------------------

HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from keyrings.azure_artifacts.statefs import file_lock
    with file_lock(Path(sys.argv[1]), 5.0):
        print("locked", flush=True)
        time.sleep(60)
    """
)


@posix_only
def test_a_lock_left_by_a_killed_process_does_not_block_a_silent_sign_in(
    fake: FakeAzure, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    fake.device_user(approve_after_polls=1)
    token_via("device_code", options(fake, {}, interactive=True, state_dir=state))
    _msal_cache_forget()
    # A process killed while it held the cache's lock (msal-extensions' lock without portalocker
    # would leave `<cache>.lockfile` behind, and every later save would fail after 5 s).
    (state / (CACHE + ".lockfile")).write_text("4242 pip")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(state / (CACHE + ".lock"))], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    _expire_access_tokens(state / CACHE)  # so the silent sign-in refreshes and saves (takes the lock)
    fake.clear_log()
    token = chain.build_flow("shared_cache", options(fake, {}, state_dir=state, timeout=5.0)).get_token(
        ADO_SCOPE
    )
    assert fake.lookup(token.token) is not None and fake.count("token") == 1


def _expire_access_tokens(path: Path) -> None:
    data = json.loads(path.read_text())
    for entry in data.get("AccessToken", {}).values():
        entry["expires_on"] = entry["extended_expires_on"] = "0"
    statefs.atomic_write_json(path, data)


# -- logout --all and the OS keyring -----------------------------------------------------------


class KeyringPersistence:
    """Stands in for msal-extensions' Keychain / libsecret persistence: the cache lives outside
    the state directory, only a signal file is touched there."""

    is_encrypted = True
    items: ClassVar[dict[str, str]] = {}

    def __init__(self, path: Path, fail: bool = False, fail_save: bool = False) -> None:
        self.signal = _msal_cache.SafeFile(path)
        self.fail = fail
        self.fail_save = fail_save

    def save(self, content: str) -> None:
        if self.fail or self.fail_save:
            raise RuntimeError("User interaction is not allowed. (-25308)")  # Keychain over SSH
        self.items[self.signal.get_location()] = content
        self.signal.touch()

    def load(self) -> str:
        if self.fail:
            raise RuntimeError("User interaction is not allowed. (-25308)")
        from msal_extensions.persistence import PersistenceNotFound

        if self.signal.get_location() not in self.items:
            raise PersistenceNotFound()
        return self.items[self.signal.get_location()]

    def time_last_modified(self) -> float:
        return self.signal.time_last_modified()

    def get_location(self) -> str:
        return self.signal.get_location()


@pytest.fixture
def os_keyring(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    items: dict[str, str] = {}
    monkeypatch.setattr(KeyringPersistence, "items", items)
    monkeypatch.setattr(_msal_cache, "encrypted", lambda path, environ: KeyringPersistence(path))
    _msal_cache_forget()
    yield items
    _msal_cache_forget()


def test_logout_all_clears_a_sign_in_kept_in_the_os_keyring(
    fake: FakeAzure, clean_env: CleanEnv, os_keyring: dict[str, Any]
) -> None:
    state = clean_env.state_dir
    fake.device_user(approve_after_polls=1)
    token_via("device_code", options(fake, {}, interactive=True, state_dir=state))
    (location,) = os_keyring
    assert "RefreshToken" in os_keyring[location] and (state / CACHE).read_bytes() == b""
    App(clean_env.for_lookup()).logout_all(revoke=False)
    assert json.loads(os_keyring[location]) == {}  # the refresh token is gone from the keyring too
    _msal_cache_forget()
    (state / CACHE).touch()  # the signal file alone: the sign-in itself was in the keyring
    with pytest.raises(CredentialUnavailable, match="no cached sign-in"):
        token_via("shared_cache", options(fake, {}, state_dir=state))


@posix_only
def test_the_sign_in_cache_refuses_a_shared_directory_too(fake: FakeAzure, tmp_path: Path) -> None:
    """Flows get a state directory from the lookup (already checked); built on their own, the
    MSAL cache checks it again rather than read or write a refresh token there."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    _msal_cache_forget()
    with pytest.raises(statefs.UntrustedState, match="writable by group or others"):
        token_via("device_code", options(fake, {}, interactive=True, state_dir=shared))
    assert list(shared.iterdir()) == [] and fake.count("devicecode") == 0
