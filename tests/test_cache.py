"""SecretCache and the file helpers: 0600/0700, atomic writes, tolerant reads, cross-process locking."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import time
from pathlib import Path

import pytest

from keyrings.azure_artifacts.cache import (
    CachedSecret,
    LockTimeout,
    SecretCache,
    atomic_write_json,
    cache_key,
    file_lock,
    read_json,
    state_dir,
)
from keyrings.azure_artifacts.errors import AzureArtifactsError

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
NOW = 1_800_000_000.0
SECRET = "s3cr3t-session-token-value"


def entry(expires_at: int = int(NOW) + 3600, **kw: object) -> CachedSecret:
    base: dict[str, object] = {
        "kind": "session",
        "secret": SECRET,
        "username": "VssSessionToken",
        "expires_at": expires_at,
        "org": "contoso",
        "feed": "main",
        "scopes": ("vso.packaging",),
        "meta": {"authorization_id": "a1"},
    }
    base.update(kw)
    return CachedSecret(**base)  # type: ignore[arg-type]


def make(tmp_path: Path, now: float = NOW) -> SecretCache:
    return SecretCache(tmp_path / "state", now=lambda: now)


def test_cache_key_is_stable_and_order_independent() -> None:
    a = cache_key(org="contoso", kind="session", scopes=("vso.packaging",), tenant=None)
    b = cache_key(tenant=None, scopes=["vso.packaging"], kind="session", org="contoso")
    assert a == b and len(a) == 64
    assert a != cache_key(org="contoso", kind="pat", scopes=("vso.packaging",), tenant=None)


def test_round_trip_and_margin(tmp_path: Path) -> None:
    cache = make(tmp_path)
    key = cache_key(org="contoso")
    cache.put(key, entry())
    assert make(tmp_path).get(key) == entry()  # a fresh instance reads the disk
    assert make(tmp_path, now=NOW + 3600 - 301).get(key) is not None
    assert make(tmp_path, now=NOW + 3600 - 300).get(key) is None
    stale = make(tmp_path, now=NOW + 7200)
    assert stale.get(key) is None
    assert stale.peek(key) == entry()


def test_repr_hides_secret() -> None:
    text = repr(entry())
    assert SECRET not in text and "sha256:" in text


@posix_only
def test_permissions(tmp_path: Path) -> None:
    cache = make(tmp_path)
    key = cache_key(org="contoso")
    cache.put(key, entry())
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "state" / f"{key}.json").stat().st_mode) == 0o600


@posix_only
def test_new_parent_directories_are_private_and_existing_ones_left_alone(tmp_path: Path) -> None:
    """Every directory the cache has to create is 0700 (not the umask's 0755); a parent that
    was there already is someone else's choice and keeps its mode."""
    os.chmod(tmp_path, 0o751)
    cache = SecretCache(tmp_path / "a" / "b" / "state", now=lambda: NOW)
    cache.put(cache_key(org="contoso"), entry())
    for created in ("a", "a/b", "a/b/state"):
        assert stat.S_IMODE((tmp_path / created).stat().st_mode) == 0o700, created
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o751


@posix_only
def test_existing_open_directory_is_tightened(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir(mode=0o755)
    os.chmod(tmp_path / "state", 0o755)
    make(tmp_path).put(cache_key(org="x"), entry())
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"\xff\xfe", b"[]", b'{"v": 2}', b'{"v": 1, "kind": "session"}', b"null"],
)
def test_corrupt_files_are_ignored_and_removed(tmp_path: Path, content: bytes) -> None:
    cache = make(tmp_path)
    key = cache_key(org="contoso")
    cache.put(key, entry())
    path = tmp_path / "state" / f"{key}.json"
    path.write_bytes(content)
    fresh = make(tmp_path)
    assert fresh.get(key) is None
    assert fresh.entries() == []
    fresh.put(key, entry())
    assert make(tmp_path).get(key) == entry()


@posix_only
def test_group_readable_file_is_ignored(tmp_path: Path) -> None:
    cache = make(tmp_path)
    key = cache_key(org="contoso")
    cache.put(key, entry())
    path = tmp_path / "state" / f"{key}.json"
    os.chmod(path, 0o644)
    assert make(tmp_path).get(key) is None
    assert not path.exists()


@posix_only
def test_symlink_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    atomic_write_json(target, entry().to_json())
    key = cache_key(org="contoso")
    (tmp_path / "state").mkdir(mode=0o700)
    (tmp_path / "state" / f"{key}.json").symlink_to(target)
    assert make(tmp_path).get(key) is None


@posix_only
@pytest.mark.skipif(os.name != "posix" or os.getuid() != 0, reason="needs root to chown (POSIX)")
def test_foreign_owned_file_is_ignored(tmp_path: Path) -> None:
    cache = make(tmp_path)
    key = cache_key(org="contoso")
    cache.put(key, entry())
    path = tmp_path / "state" / f"{key}.json"
    os.chown(path, 12345, 12345)
    assert make(tmp_path).get(key) is None


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "d" / "f.json"
    for i in range(5):
        atomic_write_json(path, {"i": i})
    assert read_json(path) == {"i": 4}
    assert [p.name for p in path.parent.iterdir()] == ["f.json"]


def test_atomic_write_failure_keeps_old_content(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    atomic_write_json(path, {"old": True})
    with pytest.raises(TypeError):
        atomic_write_json(path, {"bad": object()})
    assert read_json(path) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_delete_entries_clear(tmp_path: Path) -> None:
    cache = make(tmp_path)
    keys = [cache_key(org=o) for o in ("a", "b", "c")]
    for k in keys:
        cache.put(k, entry(org=k[:4]))
    (tmp_path / "state" / "discovery.json").write_text("{}")
    assert sorted(k for k, _ in cache.entries()) == sorted(keys)
    cache.delete(keys[0])
    cache.delete(keys[0])
    assert cache.get(keys[0]) is None
    assert len(cache.entries()) == 2
    cache.clear()
    assert cache.entries() == []
    assert (tmp_path / "state" / "discovery.json").exists()


def test_bad_key_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        make(tmp_path).get("../etc/passwd")


def test_state_dir(tmp_path: Path) -> None:
    assert state_dir({"KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": str(tmp_path)}) == tmp_path
    assert state_dir({}).name == "azure-artifacts"


def test_memo_serves_without_disk(tmp_path: Path) -> None:
    cache = make(tmp_path)
    key = cache_key(org="contoso")
    cache.put(key, entry())
    (tmp_path / "state" / f"{key}.json").unlink()
    assert cache.get(key) == entry()


def test_lock_timeout_names_the_file(tmp_path: Path) -> None:
    cache = make(tmp_path)
    key = cache_key(org="contoso")
    with cache.lock(key, timeout=1):
        proc_ctx = multiprocessing.get_context("spawn")
        q = proc_ctx.Queue()
        p = proc_ctx.Process(target=_try_lock_child, args=(str(tmp_path / "state"), key, q))
        p.start()
        result = q.get(timeout=30)  # hang guards only; the child waits 1 s for the lock
        p.join(timeout=30)
    assert result.startswith("LockTimeout:") and f"{key}.lock" in result


def test_lock_is_reentrant_free_and_released(tmp_path: Path) -> None:
    """Not re-entrant (a second holder waits, even in this process) and free again on release."""
    path = tmp_path / "x.lock"
    with file_lock(path, 1.0):
        assert path.exists()
        with pytest.raises(LockTimeout), file_lock(path, 0.0):
            pass
    with file_lock(path, 0.0):  # released: taken at once
        assert path.exists()


class Clock:
    """The `time` module as cache.py sees it: sleeping moves the clock on at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    time = staticmethod(time.time)


def test_lock_timeout_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from keyrings.azure_artifacts import statefs

    path = tmp_path / "x.lock"
    clock = Clock()
    monkeypatch.setattr(statefs, "time", clock)
    with file_lock(path, 1.0):
        # flock locks are per open file description: a second open in this process contends.
        with pytest.raises(LockTimeout) as info, file_lock(path, 0.2):
            pass
        # It polled every 0.05 s and gave up once 0.2 s had passed: no sooner, no later.
        assert set(clock.sleeps) == {0.05}
        assert 1000.2 - 1e-9 <= clock.now < 1000.25 + 1e-9, clock.now
    assert isinstance(info.value, AzureArtifactsError)
    assert "x.lock" in str(info.value)


def _try_lock_child(directory: str, key: str, q: multiprocessing.Queue[str]) -> None:
    cache = SecretCache(Path(directory))
    try:
        with cache.lock(key, timeout=0.3):
            q.put("acquired")
    except LockTimeout as exc:
        q.put(f"LockTimeout: {exc}")


def _writer_child(directory: str, key: str, n: int, worker: int) -> None:
    cache = SecretCache(Path(directory), now=lambda: NOW)
    for i in range(n):
        cache.put(key, entry(org=f"w{worker}-{i}"))
        got = cache.peek(key)
        assert got is not None


def _create_once_child(directory: str, key: str, counter: str) -> None:
    """What the service does: under the lock, reuse a fresh entry or 'create' one."""
    cache = SecretCache(Path(directory), now=lambda: NOW)
    with cache.lock(key, timeout=20):
        if cache.get(key) is None:
            with open(counter, "a") as fh:
                fh.write("created\n")
            time.sleep(0.05)
            cache.put(key, entry())


def test_concurrent_writers_never_corrupt(tmp_path: Path) -> None:
    directory = str(tmp_path / "state")
    key = cache_key(org="contoso")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer_child, args=(directory, key, 30, w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs)
    data = json.loads((tmp_path / "state" / f"{key}.json").read_text())
    assert data["org"].startswith("w")
    assert [p.name for p in (tmp_path / "state").iterdir()] == [f"{key}.json"]


def test_concurrent_processes_create_once(tmp_path: Path) -> None:
    directory = str(tmp_path / "state")
    key = cache_key(org="contoso", kind="pat")
    counter = str(tmp_path / "created.txt")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_create_once_child, args=(directory, key, counter)) for _ in range(5)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs)
    assert Path(counter).read_text() == "created\n"
