"""PAT lifecycle decisions (pure, table-driven) and the PAT store (best other backend, file fallback)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import pytest
from helpers import DAY, KEY, NOW, MemoryKeyring, pat, posix_only
from keyring.backends.chainer import ChainerBackend
from keyring.backends.fail import Keyring as FailKeyring

from keyrings.azure_artifacts import AzureArtifactsKeyring
from keyrings.azure_artifacts._text import display_name
from keyrings.azure_artifacts.pat.policy import (
    Action,
    StoredPat,
    decide,
    keeps_current,
    pat_scopes,
    renew_window,
    valid_to,
)
from keyrings.azure_artifacts.pat.store import FILE, SERVICE, PatStore, storage_backends

if TYPE_CHECKING:
    from helpers import CleanEnv

READ, WRITE = ("vso.packaging",), ("vso.packaging_write",)


@pytest.mark.parametrize(
    ("stored", "renew_before", "wanted", "upload", "expected"),
    [
        (None, 3 * DAY, READ, False, Action.CREATE),
        (pat(20 * DAY), 3 * DAY, READ, False, Action.REUSE),
        (pat(3 * DAY + 1), 3 * DAY, READ, False, Action.REUSE),
        (pat(3 * DAY), 3 * DAY, READ, False, Action.ROTATE),
        (pat(2 * DAY), 3 * DAY, READ, False, Action.ROTATE),
        (pat(301), 3 * DAY, READ, False, Action.ROTATE),
        (pat(300), 3 * DAY, READ, False, Action.REPLACE),  # must outlive the lookup by 5 minutes
        (pat(-DAY), 3 * DAY, READ, False, Action.REPLACE),
        (pat(10 * DAY), 0, READ, False, Action.REUSE),
        # renew_before longer than the PAT's life: at most half of it, not "rotate on every lookup"
        (pat(0.9 * DAY, lifetime=DAY), 3 * DAY, READ, False, Action.REUSE),
        (pat(0.4 * DAY, lifetime=DAY), 3 * DAY, READ, False, Action.ROTATE),
        # a read-scoped PAT is never used for an upload URL
        (pat(20 * DAY), 3 * DAY, WRITE, True, Action.CREATE),
        (pat(20 * DAY), 3 * DAY, READ, True, Action.CREATE),
        (pat(20 * DAY, scopes=WRITE), 3 * DAY, WRITE, True, Action.REUSE),
        (
            pat(20 * DAY, scopes=("vso.packaging_manage",)),
            3 * DAY,
            ("vso.packaging_manage",),
            True,
            Action.REUSE,
        ),
        (pat(20 * DAY, scopes=READ), 3 * DAY, ("vso.packaging", "vso.build"), False, Action.CREATE),
        (replace(pat(20 * DAY), secret=""), 3 * DAY, READ, False, Action.CREATE),
    ],
)
def test_decide(
    stored: Optional[StoredPat], renew_before: int, wanted: tuple[str, ...], upload: bool, expected: Action
) -> None:
    assert decide(stored, NOW, renew_before, wanted, upload) is expected


@pytest.mark.parametrize(
    ("stored", "wanted", "upload", "expected"),
    [
        (pat(20 * DAY), READ, False, Action.REPLACE),  # refused on the server: nothing to revoke
        (pat(2 * DAY), READ, False, Action.REPLACE),  # not a rotation: the old one is gone already
        (pat(-DAY), READ, False, Action.REPLACE),
        (None, READ, False, Action.CREATE),
        (pat(20 * DAY), WRITE, True, Action.CREATE),  # another PAT's business
    ],
)
def test_decide_a_refused_pat(
    stored: Optional[StoredPat], wanted: tuple[str, ...], upload: bool, expected: Action
) -> None:
    assert decide(stored, NOW, 3 * DAY, wanted, upload, refused=True) is expected


def test_only_a_rotation_keeps_the_current_pat_when_making_one_fails() -> None:
    assert [action for action in Action if keeps_current(action)] == [Action.ROTATE]


@pytest.mark.parametrize(
    ("scopes", "upload", "expected"),
    [
        (("vso.packaging",), False, ("vso.packaging",)),
        (("vso.packaging_write",), False, ("vso.packaging_write",)),
        (("vso.packaging",), True, ("vso.packaging_write",)),
        (("vso.packaging", "vso.build"), True, ("vso.packaging_write", "vso.build")),
        (("vso.build",), True, ("vso.build", "vso.packaging_write")),
        (("vso.packaging_manage",), True, ("vso.packaging_manage",)),
        (("vso.packaging", "vso.packaging"), False, ("vso.packaging",)),
        ((), False, ("vso.packaging",)),
        ((), True, ("vso.packaging_write",)),
    ],
)
def test_pat_scopes(scopes: tuple[str, ...], upload: bool, expected: tuple[str, ...]) -> None:
    assert pat_scopes(scopes, upload) == expected


@pytest.mark.parametrize(
    ("lifetime", "renew_before", "expected"),
    [(30 * DAY, 3 * DAY, 3 * DAY), (DAY, 3 * DAY, DAY // 2), (30 * DAY, 0, 0), (0, DAY, 0)],
)
def test_renew_window(lifetime: int, renew_before: int, expected: int) -> None:
    assert renew_window(lifetime, renew_before) == expected


def test_valid_to_and_display_name() -> None:
    assert valid_to(NOW + 0.7, 90 * DAY).timestamp() == NOW + 90 * DAY
    assert valid_to(NOW, DAY).tzinfo is not None
    name = display_name("contoso", "main", hostname="build-01")
    assert "keyrings.azure-artifacts" in name and "build-01" in name and "contoso" in name
    assert display_name("contoso", None, hostname="").endswith("for contoso")


def test_stored_pat_round_trip_and_repr() -> None:
    record = pat(DAY)
    assert StoredPat.from_json(json.loads(json.dumps(record.to_json()))) == record
    assert "s3cr3t" not in repr(record)
    assert record.public().secret == ""
    for broken in (
        None,
        [],
        {"v": 2},
        {**record.to_json(), "expires_at": "soon"},
        {**record.to_json(), "scopes": "x"},
    ):
        assert StoredPat.from_json(broken) is None


# -- the store ----------------------------------------------------------------------------------


# Plain classes, not KeyringBackend subclasses: a subclass registers itself with keyring for
# the whole test process, and keyring could then pick it for every other test.
class ReadOnlyPlugin:
    """Like other feed plugins: high priority, but stores nothing."""

    priority = 9.9

    def get_password(self, service: str, username: str) -> Optional[str]:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError


class Unviable:
    @property
    def priority(self) -> float:
        raise RuntimeError("no D-Bus")

    def get_password(self, service: str, username: str) -> Optional[str]:
        raise AssertionError("never asked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise AssertionError("never asked")


def test_storage_backends_exclude_us_the_chainer_and_the_unviable() -> None:
    memory, plugin = MemoryKeyring(), ReadOnlyPlugin()
    found = storage_backends(
        [AzureArtifactsKeyring(), ChainerBackend(), FailKeyring(), Unviable(), memory, plugin]
    )
    assert found == [plugin, memory]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@posix_only
def test_file_fallback_is_0600_and_round_trips(tmp_path: Path) -> None:
    store = PatStore(tmp_path / "pats", backends=[])
    record = pat(10 * DAY)
    assert store.put(KEY, record) == FILE
    assert store.get(KEY) == record
    path = tmp_path / "pats" / f"{KEY}.json"
    if os.name == "posix":
        assert mode(path) == 0o600
        assert mode(tmp_path / "pats") == 0o700
    assert [(k, p.secret) for k, p in store.entries()] == [(KEY, "")]
    store.delete(KEY)
    assert store.get(KEY) is None and store.entries() == []


def test_keyring_holds_the_secret_and_the_index_does_not(tmp_path: Path) -> None:
    memory = MemoryKeyring()
    store = PatStore(tmp_path / "pats", backends=[ReadOnlyPlugin(), memory])
    record = pat(10 * DAY)
    assert store.put(KEY, record).endswith("MemoryKeyring")
    assert "s3cr3t" not in (tmp_path / "pats" / f"{KEY}.json").read_text()
    # One credential per PAT, holding only the secret: the metadata is in the index.
    assert memory.items == {(f"{SERVICE} {KEY}", KEY): record.secret}
    index = json.loads((tmp_path / "pats" / f"{KEY}.json").read_text())
    assert index["pat"]["authorization_id"] == "auth-1" and index["pat"]["expires_at"] == record.expires_at
    assert PatStore(tmp_path / "pats", backends=[memory]).get(KEY) == record
    store.delete(KEY)
    assert memory.items == {}


def test_locked_keyring_degrades_to_the_file(tmp_path: Path) -> None:
    store = PatStore(tmp_path / "pats", backends=[MemoryKeyring(locked=True)])
    assert store.put(KEY, pat(10 * DAY)) == FILE
    assert store.get(KEY) == pat(10 * DAY)


def test_keyring_that_locks_later_reads_as_absent(tmp_path: Path) -> None:
    memory = MemoryKeyring()
    store = PatStore(tmp_path / "pats", backends=[memory])
    store.put(KEY, pat(10 * DAY))
    memory.locked = True
    assert store.get(KEY) is None
    assert [k for k, _ in store.entries()] == [KEY]  # still listed, so logout can find it


def test_store_never_asks_keyring_for_the_default_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden() -> Any:
        raise AssertionError("get_keyring() from inside the backend recurses")

    monkeypatch.setattr("keyring.get_keyring", forbidden)
    monkeypatch.setattr("keyring.core.get_keyring", forbidden)
    store = PatStore(tmp_path / "pats")
    store.put(KEY, pat(10 * DAY))
    assert store.get(KEY) is not None


def test_a_backend_that_calls_back_into_keyring_does_not_recurse(tmp_path: Path) -> None:
    """A backend calling the store again (through keyring) sees no store, not itself."""
    inner: list[str] = []

    class Reentrant(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            inner.append(PatStore(tmp_path / "inner", backends=[self]).put(KEY, pat(DAY)))
            super().set_password(service, username, password)

    store = PatStore(tmp_path / "pats", backends=[Reentrant()])
    assert store.put(KEY, pat(10 * DAY)).endswith("Reentrant")
    assert inner == [FILE]


@pytest.mark.skipif(sys.platform != "linux", reason="the OS keyring is always there on macOS and Windows")
def test_clean_environment_has_no_other_backend(clean_env: CleanEnv) -> None:
    """The subprocess tests rely on this: without a D-Bus session, PATs go to the 0600 file."""
    code = (
        "from keyrings.azure_artifacts.pat.store import installed_backends;"
        "print([type(b).__name__ for b in installed_backends()])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_corrupt_index_reads_as_absent(tmp_path: Path) -> None:
    store = PatStore(tmp_path / "pats", backends=[])
    store.put(KEY, pat(10 * DAY))
    (tmp_path / "pats" / f"{KEY}.json").write_text("{not json")
    assert store.get(KEY) is None
