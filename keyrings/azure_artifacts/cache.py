"""Secrets and small facts on disk, one 0600 JSON file per key (file handling: `statefs.py`).

Storage is one JSON file per key (`<dir>/<key>.json`): writers for different
feeds never contend, a corrupted file loses one entry rather than all of them, and
`os.replace` makes each write atomic without a read-modify-write cycle.

The inter-process lock per key is `statefs.file_lock`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ._log import fingerprint, get_logger

# Re-exported: other modules (and other branches) import these from here.
from .statefs import ENV_STATE_DIR as ENV_STATE_DIR
from .statefs import LockTimeout as LockTimeout
from .statefs import atomic_write_json as atomic_write_json
from .statefs import discard, file_lock, remove
from .statefs import ensure_dir as ensure_dir
from .statefs import read_json as read_json

_discard = discard
KINDS = ("bearer", "session")  # what the cache holds: PATs are in pat/store, static ones never kept
_SUFFIX = ".json"


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where our cache lives: the env override, else keyring's data root / azure-artifacts."""
    env = os.environ if environ is None else environ
    override = env.get(ENV_STATE_DIR, "").strip()
    if override:
        return Path(override).expanduser()
    from keyring.util import platform_

    return Path(platform_.data_root()) / "azure-artifacts"


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

    def _fresh(self, entry: object, now: float) -> bool:
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

    def delete(self, key: str) -> bool:
        """Forget an entry; absent is fine. False when the file could not be removed."""
        self._memo.pop(key, None)
        return remove(self._path(key))

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

    def clear(self) -> list[Path]:
        """Forget every entry; returns the files that could not be removed."""
        kept = [self._path(key) for key, _entry in self.entries() if not self.delete(key)]
        self._memo.clear()
        return kept

    def lock(self, key: str, timeout: float = 30.0) -> contextlib.AbstractContextManager[None]:
        """An inter-process lock for `key` (so concurrent processes create one token, not many)."""
        self._path(key)  # validates the key
        return file_lock(self.directory / (key + ".lock"), timeout)
