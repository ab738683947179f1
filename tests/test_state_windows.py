"""What Windows and macOS do to state files, simulated on Linux: a file held by another process
(os.replace and unlink raise PermissionError), an OS keyring that refuses on load or save, a
directory we cannot write, mkdir's mode on Windows, Windows Credential Manager's limits."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

import pytest
from helpers import KEY, MemoryKeyring, PatWorld, options, pat, token_via
from test_state_trust import CACHE, NOBODY, KeyringPersistence, _msal_cache_forget, lookup_env

from keyrings.azure_artifacts import service, statefs
from keyrings.azure_artifacts.app import App
from keyrings.azure_artifacts.credentials import _msal_cache, chain
from keyrings.azure_artifacts.errors import AzureArtifactsError, CredentialUnavailable
from keyrings.azure_artifacts.microsoft import ADO_SCOPE
from keyrings.azure_artifacts.pat.store import SERVICE, PatStore, service_name
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from helpers import CleanEnv, Logged


_real_replace = os.replace
_real_mkstemp = tempfile.mkstemp


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(statefs.time, "sleep", waits.append)
    return waits


def held(times: int, real: Callable[..., Any]) -> Callable[..., Any]:
    """`real`, raising PermissionError (Windows' ERROR_SHARING_VIOLATION / ACCESS_DENIED as
    CPython maps them) the first `times` calls, as while another process holds the file."""
    calls = [0]

    def call(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] <= times:
            raise PermissionError(errno.EACCES, "The process cannot access the file")
        return real(*args, **kwargs)

    return call


# -- os.replace and unlink while another process holds the file --------------------------------


def test_a_replace_refused_once_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> None:
    # pip retries os.replace the same way on Windows (src/pip/_internal/utils/filesystem.py).
    monkeypatch.setattr(os, "replace", held(1, _real_replace))
    statefs.atomic_write_json(tmp_path / "x.json", {"a": 1})
    assert statefs.read_json(tmp_path / "x.json") == {"a": 1} and len(no_sleep) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temp file left behind


def test_a_replace_refused_for_good_costs_the_cache_not_the_secret(
    fake: FakeAzure,
    clean_env: CleanEnv,
    logged: Logged,
    monkeypatch: pytest.MonkeyPatch,
    no_sleep: list[float],
) -> None:
    monkeypatch.setattr(os, "replace", held(10**6, _real_replace))
    state = clean_env.root / "state"
    found = service.lookup(fake.feed_url("contoso", "main"), None, environ=lookup_env(fake, clean_env, state))
    assert found is not None and fake.lookup(found[1]) is not None
    warnings = logged.warnings()
    assert len(warnings) == 1 and str(state / "secrets") in warnings[0] and "STATE_DIR" in warnings[0], (
        warnings
    )
    # Each write (secret, discovery, sign-in metadata) retried a bounded number of times, < 1 s.
    waits = list(statefs.RETRY_WAITS)
    assert no_sleep and no_sleep == waits * (len(no_sleep) // len(waits)) and sum(waits) < 1


def test_logout_all_retries_a_held_file_then_names_what_stays(
    fake: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> None:
    state = clean_env.root / "state"
    env = lookup_env(fake, clean_env, state)
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env)
    real_unlink = Path.unlink
    monkeypatch.setattr(Path, "unlink", held(1, real_unlink))
    App(env).logout_all(revoke=False)  # held once: retried, removed
    assert list((state / "secrets").glob("*.json")) == []

    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env)
    monkeypatch.setattr(Path, "unlink", held(10**6, real_unlink))
    with pytest.raises(AzureArtifactsError) as info:
        App(env).logout_all(revoke=False)
    (kept,) = (state / "secrets").glob("*.json")
    assert str(kept) in str(info.value) and "\n" not in str(info.value)


# -- an OS keyring that refuses on load or save (Keychain over SSH, libsecret without a bus) ------


@pytest.fixture
def refusing_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(KeyringPersistence, "items", {})
    monkeypatch.setattr(_msal_cache, "encrypted", lambda path, environ: KeyringPersistence(path, fail=True))
    monkeypatch.setattr(_msal_cache, "_fallen", set())
    _msal_cache_forget()
    yield
    _msal_cache_forget()


def test_a_refusing_os_keyring_makes_shared_cache_unavailable_and_falls_back_to_the_file(
    fake: FakeAzure, tmp_path: Path, logged: Logged, refusing_keyring: None
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / CACHE).touch()  # a sign-in was kept in the keyring by an earlier process
    fake.device_user(approve_after_polls=1)
    opts = options(fake, {"PATH": ""}, interactive=True, state_dir=state, interactive_timeout=30.0)
    names = ["shared_cache", "device_code"]
    token = chain.ChainedFlow([chain.build_flow(n, opts) for n in names], "contoso").get_token(ADO_SCOPE)
    assert fake.lookup(token.token) is not None  # the chain went on past shared_cache
    refused = [w for w in logged.warnings() if "OS keyring refused" in w]
    assert len(refused) == 1 and str(state / CACHE) in refused[0]
    assert "RefreshToken" in (state / CACHE).read_text()  # kept in the 0600 file instead
    with pytest.raises(CredentialUnavailable):  # a refusal is "unavailable", never "failed"
        chain.build_flow("shared_cache", options(fake, {}, state_dir=tmp_path / "other")).get_token(ADO_SCOPE)
    _msal_cache_forget()  # the rest of this process: the file, without asking the keyring again
    assert token_via("shared_cache", options(fake, {}, state_dir=state))
    assert len([w for w in logged.warnings() if "OS keyring refused" in w]) == 1


# -- a state directory we cannot write ---------------------------------------------------------


def refuse_writes_under(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As for a normal user in a directory an elevated shell created with mkdir(mode=0o700) on
    Windows (CPython gh-118486): every new file there is refused. Root ignores mode bits, so
    this is simulated rather than chmod-ed."""

    def mkstemp(*args: Any, dir: Optional[str] = None, **kwargs: Any) -> Any:
        if dir is not None and Path(dir).is_relative_to(directory):
            raise PermissionError(errno.EACCES, "Permission denied")
        return _real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(statefs.tempfile, "mkstemp", mkstemp)


def test_an_unwritable_state_directory_still_returns_the_secret(
    fake: FakeAzure, clean_env: CleanEnv, logged: Logged, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = clean_env.root / "state"
    refuse_writes_under(state, monkeypatch)
    found = service.lookup(fake.feed_url("contoso", "main"), None, environ=lookup_env(fake, clean_env, state))
    assert found is not None and fake.lookup(found[1]) is not None
    (warning,) = logged.warnings()
    assert "cannot write to" in warning and "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR" in warning


def test_no_pat_is_created_when_it_could_not_be_stored(
    world: PatWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    pats = Path(world.env["KEYRINGS_AZURE_ARTIFACTS_STATE_DIR"]) / "pats"
    refuse_writes_under(pats, monkeypatch)
    with pytest.raises(statefs.StateNotWritable) as info:
        world.secret()
    message = str(info.value)
    assert str(pats) in message and "no PAT was created" in message and "STATE_DIR" in message
    assert world.fake.count("pat_create") == 0  # nothing orphaned on the server


def test_os_access_is_not_trusted_for_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # On Windows os.access(dir, W_OK) only reads the read-only attribute: always true for a
    # directory (CPython docs, os.access; Windows has no per-directory mode bits).
    from keyrings.azure_artifacts.tool_setup import FileEdit, SetupError, apply

    monkeypatch.setattr(os, "access", lambda *args, **kwargs: True)
    refuse_writes_under(tmp_path, monkeypatch)
    with pytest.raises(SetupError, match="cannot write"):
        apply([FileEdit(tmp_path / "pip.conf", None, "[global]\n")])
    assert not (tmp_path / "pip.conf").exists()


def test_no_mode_for_directories_on_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # CPython 3.12.4+/3.13 (gh-118486, CVE-2024-4030): mkdir(mode=0o700) on Windows sets an ACL
    # for the creator alone. Windows gets no mode at all; POSIX gets 0700.
    calls: list[dict[str, Any]] = []
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        calls.append({"args": args, **kwargs})
        real_mkdir(self)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(statefs.sys, "platform", "win32")
    statefs.ensure_dir(tmp_path / "a" / "b")
    assert calls == [{"args": ()}, {"args": ()}]
    monkeypatch.setattr(statefs.sys, "platform", "linux")
    calls.clear()
    statefs.make_dir(tmp_path / "c")
    assert calls == [{"args": (), "mode": 0o700}]


# -- Windows Credential Manager ----------------------------------------------------------------


class CredentialManager(MemoryKeyring):
    """Stands in for keyring's WinVaultKeyring: the password is stored as UTF-16-LE and
    CredWrite refuses a blob over CRED_MAX_CREDENTIAL_BLOB_SIZE (2560 bytes; Microsoft Learn,
    CREDENTIALW structure). Module name as keyring's (keyring/backends/Windows.py)."""

    attempts = 0

    def set_password(self, service: str, username: str, password: str) -> None:
        self.attempts += 1
        if len(password.encode("utf-16-le")) > 2560:
            raise OSError(1783, "CredWrite", "The stub received bad data")
        super().set_password(service, username, password)


CredentialManager.__module__ = "keyring.backends.Windows"


def test_each_pat_is_its_own_credential_holding_only_the_secret(tmp_path: Path) -> None:
    vault = CredentialManager()
    store = PatStore(tmp_path / "pats", backends=[vault])
    other = "b" * 64
    store.put(KEY, pat(86400))
    store.put(other, replace(pat(86400), secret="another-pat-value", authorization_id="auth-2"))
    # Two processes storing at once no longer share (and overwrite) one target.
    assert vault.items == {
        (service_name(KEY), KEY): "s3cr3t-pat-value",
        (service_name(other), other): "another-pat-value",
    }
    assert store.get(KEY) == pat(86400) and store.get(other).authorization_id == "auth-2"  # type: ignore[union-attr]


def test_a_secret_too_long_for_credential_manager_is_not_offered_to_it(tmp_path: Path) -> None:
    vault = CredentialManager()
    store = PatStore(tmp_path / "pats", backends=[vault])
    long = replace(pat(86400), secret="x" * 1281)  # 2562 bytes in UTF-16
    assert store.put(KEY, long) == "file" and vault.attempts == 0 and vault.items == {}
    assert store.get(KEY) == long


def test_an_older_shared_record_is_read_once_and_stored_per_key(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    record = pat(86400)
    keyring.items[(SERVICE, KEY)] = json.dumps(record.to_json())  # how older versions kept it
    store = PatStore(tmp_path / "pats", backends=[keyring])
    index = {"v": 1, "store": f"{MemoryKeyring.__module__}.MemoryKeyring", "pat": record.public().to_json()}
    statefs.atomic_write_json(tmp_path / "pats" / f"{KEY}.json", index)
    assert store.get(KEY) == record
    assert keyring.items == {(service_name(KEY), KEY): record.secret}
    assert store.get(KEY) == record


def test_a_keyring_that_refuses_only_to_save_keeps_the_sign_in_in_the_file(
    fake: FakeAzure, tmp_path: Path, logged: Logged, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(KeyringPersistence, "items", {})
    monkeypatch.setattr(
        _msal_cache, "encrypted", lambda path, environ: KeyringPersistence(path, fail_save=True)
    )
    monkeypatch.setattr(_msal_cache, "_fallen", set())
    _msal_cache_forget()
    state = tmp_path / "state"
    fake.device_user(approve_after_polls=1)
    assert token_via("device_code", options(fake, {}, interactive=True, state_dir=state))
    assert len([w for w in logged.warnings() if "OS keyring refused" in w]) == 1
    assert "RefreshToken" in (state / CACHE).read_text() and KeyringPersistence.items == {}
    _msal_cache_forget()


# -- the same, for real: a lookup run as an unprivileged user --------------------------------

LOOKUP = textwrap.dedent(
    """
    import json, os, sys
    from keyrings.azure_artifacts import service
    found = service.lookup(sys.argv[1], None, environ=dict(os.environ))
    print(json.dumps(found))
    """
)


SETPRIV = shutil.which("setpriv")


def interpreter_runs_as_nobody() -> bool:
    """A pyenv interpreter under root's 0700 home (its libpython included), or an environment
    whose packages another user cannot read, cannot run a lookup as that user at all: then
    there is nothing to test as that user."""
    probe = "import urllib3, requests, msal, keyrings.azure_artifacts.service"
    done = subprocess.run(
        [str(SETPRIV), f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", sys.executable, "-c", probe],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    return done.returncode == 0


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0 or SETPRIV is None,
    reason="needs root and setpriv to run a lookup as nobody",
)
@pytest.mark.parametrize(
    ("owner", "mode", "answers", "says"),
    [(NOBODY, 0o500, True, "cannot write to"), (0, 0o700, False, "refusing")],
)
def test_a_lookup_as_a_user_who_cannot_write_the_state_directory(
    fake: FakeAzure, clean_env: CleanEnv, owner: int, mode: int, answers: bool, says: str
) -> None:
    """Owned by the user but read-only: the secret comes back uncached, with one line. Owned by
    root (as after a run with sudo, or an elevated shell on Windows): refused in one line."""
    if not interpreter_runs_as_nobody():
        pytest.skip(f"{sys.executable} and its packages cannot be loaded as nobody (files private to root)")
    base = Path(tempfile.mkdtemp(prefix="state-as-nobody-", dir="/tmp"))
    try:
        base.chmod(0o755)
        (base / "home").mkdir()
        os.chown(base / "home", NOBODY, NOBODY)
        ca = base / "ca.pem"
        shutil.copy(fake.ca_path, ca)
        ca.chmod(0o644)
        state = base / "state"
        state.mkdir(mode=mode)
        os.chown(state, owner, owner)
        env = lookup_env(fake, clean_env, state)
        config = base / "keyringrc.cfg"
        shutil.copy(env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"], config)
        config.chmod(0o644)
        env.update(
            KEYRINGS_AZURE_ARTIFACTS_CONFIG=str(config), HOME=str(base / "home"),
            REQUESTS_CA_BUNDLE=str(ca), SSL_CERT_FILE=str(ca),
        )  # fmt: skip
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "UV_CACHE_DIR"):
            env.pop(name, None)
        done = subprocess.run(
            [str(SETPRIV), f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", sys.executable, "-c", LOOKUP,
             fake.feed_url("contoso", "main")],
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        found = json.loads(done.stdout)
        assert (found is not None and fake.lookup(found[1]) is not None) is answers, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0] and str(state) in lines[0], lines
        assert list(state.iterdir()) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)
