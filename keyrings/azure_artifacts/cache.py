"""Secrets and small state on disk: 0700 directory, 0600 files, atomic writes, tolerant reads.

Storage is one JSON file per key (`<dir>/<key>.json`): writers for different
feeds never contend, a corrupted file loses one entry rather than all of them, and
`os.replace` makes each write atomic without a read-modify-write cycle.

The inter-process lock is `fcntl.flock` (POSIX) or `msvcrt.locking` (Windows) on a
`<key>.lock` file, polled until a deadline. Unlike msal-extensions' `CrossPlatLock`
(create-exclusive lock file, fixed 5 s wait), the OS releases a flock when its holder
dies, so a crashed process never leaves a stale lock behind, and the timeout is ours.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ._log import fingerprint, get_logger
from .errors import AzureArtifactsError

ENV_STATE_DIR = "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR"
KINDS = ("bearer", "session", "pat", "static")
_SUFFIX = ".json"


class LockTimeout(AzureArtifactsError):
    """Another process held the lock for longer than we were willing to wait."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        super().__init__(
            f"gave up waiting {timeout:g} s for {path.name}: another process or thread is still "
            "obtaining this secret (a sign-in may be waiting for a person); retry when it has "
            "finished, the lock goes away with it"
        )


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where our cache lives: the env override, else keyring's data root / azure-artifacts."""
    env = os.environ if environ is None else environ
    override = env.get(ENV_STATE_DIR, "").strip()
    if override:
        return Path(override).expanduser()
    from keyring.util import platform_

    return Path(platform_.data_root()) / "azure-artifacts"


def ensure_dir(directory: Path) -> Path:
    """Create the directory private to this user (0700), and every parent it has to create with
    it (`Path.mkdir(parents=True)` would leave those at the umask's 0755); tighten the directory
    itself if it already exists. Parents that exist already are not ours and are left alone."""
    missing: list[Path] = []
    current = directory
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process may have just made it
            path.mkdir(mode=0o700)
    if os.name == "posix":
        st = directory.stat()
        if st.st_mode & 0o077 and st.st_uid == os.getuid():
            os.chmod(directory, 0o700)
    return directory


def atomic_write_json(path: Path, data: Any) -> None:
    """Write JSON to `path` as 0600 via a temp file in the same directory, fsync and replace."""
    ensure_dir(path.parent)
    payload = json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        if os.name == "posix":
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if os.name == "posix":
        with contextlib.suppress(OSError):
            dfd = os.open(str(path.parent), os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)


def read_json(path: Path) -> Any:
    """The JSON in `path`, or None if it is absent, unreadable, corrupt, not ours or too open.

    A file that is corrupt, owned by someone else or readable by others is removed (when
    we may) so the next write rebuilds it; this never raises.
    """
    log = get_logger()
    try:
        fd = os.open(str(path), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.debug("cache: cannot open %s (%s); ignored", path.name, type(exc).__name__)
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            if os.name == "posix":
                st = os.fstat(fh.fileno())
                if st.st_uid != os.getuid() or st.st_mode & 0o077:
                    log.debug("cache: %s has wrong owner or mode; ignored", path.name)
                    _discard(path)
                    return None
            raw = fh.read()
        return json.loads(raw.decode("utf-8"))
    except (OSError, ValueError) as exc:
        log.debug("cache: %s unreadable (%s); discarded", path.name, type(exc).__name__)
        _discard(path)
        return None


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def is_key(text: str) -> bool:
    """True for what `cache_key` makes: 64 lowercase hex digits (safe as a file name)."""
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def cache_key(**parts: object) -> str:
    """A stable file-name-safe key: sha256 of the parts as canonical JSON."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=_canon)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _canon(value: object) -> object:
    if isinstance(value, (set, frozenset)):
        return sorted(str(v) for v in value)
    if isinstance(value, (tuple, list)):
        return list(value)
    return str(value)


class AgedStore:
    """Small JSON objects by key in one 0600 file, each good for `ttl` seconds after it was put;
    older ones are pruned whenever the file is written. For facts, never for secrets."""

    def __init__(self, path: Path, ttl: float, now: Callable[[], float] = time.time) -> None:
        self.path = path
        self.ttl = ttl
        self.now = now

    def _fresh(self, entry: Any, now: float) -> bool:
        at = entry.get("at") if isinstance(entry, dict) else None
        return isinstance(at, (int, float)) and 0 <= now - at < self.ttl

    def _load(self) -> dict[str, Any]:
        data = read_json(self.path)
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self._load().get(key)
        return entry if self._fresh(entry, self.now()) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        now = self.now()
        kept = {k: v for k, v in self._load().items() if self._fresh(v, now)}
        kept[key] = {**value, "at": int(now)}
        atomic_write_json(self.path, kept)


@dataclass(frozen=True)
class CachedSecret:
    """A secret we obtained, with what it is for and when it stops being valid."""

    kind: str
    secret: str
    username: str
    expires_at: int
    org: str
    project: str | None = None
    feed: str | None = None
    scopes: tuple[str, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"CachedSecret(kind={self.kind!r}, secret={fingerprint(self.secret)}, "
            f"username={self.username!r}, expires_at={self.expires_at}, org={self.org!r}, "
            f"project={self.project!r}, feed={self.feed!r}, scopes={self.scopes!r}, "
            f"meta={self.meta!r})"
        )

    @property
    def identity(self) -> dict[str, str]:
        """Whom the secret was issued to, from its Entra token's claims (oid, appid, tid, upn)."""
        from .claims import IDENTITY_CLAIMS

        return {name: self.meta[name] for name in IDENTITY_CLAIMS if name in self.meta}

    def to_json(self) -> dict[str, Any]:
        """The stored form (version 1)."""
        return {
            "v": 1,
            "kind": self.kind,
            "secret": self.secret,
            "username": self.username,
            "expires_at": self.expires_at,
            "org": self.org,
            "project": self.project,
            "feed": self.feed,
            "scopes": list(self.scopes),
            "meta": dict(self.meta),
        }

    @classmethod
    def from_json(cls, data: Any) -> CachedSecret | None:
        """Parse the stored form; None for anything malformed (never raises)."""
        try:
            if not isinstance(data, dict) or data.get("v") != 1:
                return None
            kind, secret, username = data["kind"], data["secret"], data["username"]
            org, expires_at = data["org"], data["expires_at"]
            if kind not in KINDS or not all(isinstance(s, str) for s in (secret, username, org)):
                return None
            if not isinstance(expires_at, int) or isinstance(expires_at, bool):
                return None
            project, feed = data.get("project"), data.get("feed")
            if not all(v is None or isinstance(v, str) for v in (project, feed)):
                return None
            scopes, meta = data.get("scopes", []), data.get("meta", {})
            if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
                return None
            if not isinstance(meta, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
            ):
                return None
            return cls(kind, secret, username, expires_at, org, project, feed, tuple(scopes), meta)
        except (KeyError, TypeError):
            return None


class SecretCache:
    """Cached secrets by key, fresh only while they outlive `margin` seconds; disk-backed with a memo."""

    def __init__(self, directory: Path, now: Callable[[], float] = time.time, margin: int = 300) -> None:
        self.directory = Path(directory)
        self.now = now
        self.margin = margin
        self._memo: dict[str, CachedSecret] = {}

    def __repr__(self) -> str:
        return f"SecretCache({str(self.directory)!r}, margin={self.margin})"

    def _path(self, key: str) -> Path:
        if not is_key(key):
            raise ValueError("cache keys are sha256 hex (use cache_key())")
        return self.directory / (key + _SUFFIX)

    def _fresh(self, entry: CachedSecret) -> bool:
        return entry.expires_at - self.now() > self.margin

    def get(self, key: str) -> CachedSecret | None:
        """The entry if it stays valid for more than `margin` seconds, else None."""
        log = get_logger()
        entry = self._memo.get(key)
        if entry is None or not self._fresh(entry):
            entry = self.peek(key)
        if entry is None:
            log.debug("cache: miss %s", key[:12])
            return None
        if not self._fresh(entry):
            log.debug("cache: stale %s (expires_at=%d)", key[:12], entry.expires_at)
            return None
        log.debug("cache: hit %s (%s, expires_at=%d)", key[:12], entry.kind, entry.expires_at)
        return entry

    def peek(self, key: str) -> CachedSecret | None:
        """The stored entry even when stale (for explain/status); None if absent or unreadable."""
        entry = CachedSecret.from_json(read_json(self._path(key)))
        if entry is None:
            self._memo.pop(key, None)
        else:
            self._memo[key] = entry
        return entry

    def put(self, key: str, entry: CachedSecret) -> None:
        """Store atomically (0600)."""
        atomic_write_json(self._path(key), entry.to_json())
        self._memo[key] = entry
        get_logger().debug("cache: stored %s (%s, %s)", key[:12], entry.kind, entry.org)

    def delete(self, key: str) -> None:
        """Forget an entry; absent is fine."""
        self._memo.pop(key, None)
        _discard(self._path(key))

    def entries(self) -> list[tuple[str, CachedSecret]]:
        """Every readable entry, stale or not, sorted by key."""
        if not self.directory.is_dir():
            return []
        out: list[tuple[str, CachedSecret]] = []
        for path in sorted(self.directory.glob("*" + _SUFFIX)):
            key = path.name[: -len(_SUFFIX)]
            if not is_key(key):
                continue
            entry = self.peek(key)
            if entry is not None:
                out.append((key, entry))
        return out

    def clear(self) -> None:
        """Forget every entry."""
        for key, _entry in self.entries():
            self.delete(key)
        self._memo.clear()

    def lock(self, key: str, timeout: float = 30.0) -> contextlib.AbstractContextManager[None]:
        """An inter-process lock for `key` (so concurrent processes create one token, not many)."""
        self._path(key)  # validates the key
        return file_lock(self.directory / (key + ".lock"), timeout)


@contextlib.contextmanager
def file_lock(path: Path, timeout: float, poll: float = 0.05) -> Iterator[None]:
    """Hold an OS advisory lock on `path`, waiting at most `timeout` seconds (raises LockTimeout).

    Where the lock file cannot be created at all (read-only or full disk, a file where the
    directory should be), the caller runs unlocked: the state cannot be written either, so
    there is nothing to protect, and the lookup still gets its secret.
    """
    log = get_logger()
    try:
        ensure_dir(path.parent)
        fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        log.warning("cannot lock %s (%s): going on without the lock", path.parent, exc.__class__.__name__)
        yield
        return
    try:
        deadline = time.monotonic() + timeout
        while True:
            if _try_lock(fd):
                break
            if time.monotonic() >= deadline:
                log.debug("cache: lock %s not acquired within %g s", path.name, timeout)
                raise LockTimeout(path, timeout)
            time.sleep(poll)
        log.debug("cache: locked %s", path.name)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
