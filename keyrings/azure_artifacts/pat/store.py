"""Where our PATs live: the best other keyring backend, else a 0600 file under our state dir.

An index of 0600 JSON files (`<dir>/<key>.json`, no secret inside when a keyring holds
it) says where each PAT went, so `status` and `logout --all` can list them: keyring
backends cannot enumerate. In the keyring, each PAT is its own credential (service
`azure-artifacts-keyring PAT <key>`) holding only the secret; the metadata stays in the
index with a fingerprint of the secret. One credential per key because keyring's Windows
backend shares a target per service name and moves the previous credential aside by
read-then-write (keyring/backends/Windows.py, `_set_password`/`_resolve_credential`), so
two processes storing PATs at once lost one; and because Credential Manager caps a blob at
2560 bytes (CRED_MAX_CREDENTIAL_BLOB_SIZE, Microsoft Learn "CREDENTIALW structure"), which
the whole JSON record in UTF-16 could pass. Records written by older versions (the JSON
record under the shared service name) are read once, stored again per key, and dropped.

We never call `keyring.get_keyring()` from here (it would find us again); the other
backends are taken from `keyring.backend.get_all_keyring()`, and a thread-local guard
makes a backend that calls back into keyring see no store instead of recursing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from .._log import fingerprint, get_logger
from ..cache import is_key
from ..statefs import atomic_write_json, probe_writable, read_json, remove, write_failed

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend
from .policy import StoredPat

FILE = "file"
SERVICE = "azure-artifacts-keyring PAT"
# Windows Credential Manager: CRED_MAX_CREDENTIAL_BLOB_SIZE = 5 * 512 bytes, and keyring's
# Windows backend stores the password as UTF-16-LE.
CREDENTIAL_BLOB_LIMIT = 2560
WINDOWS_BACKEND = "keyring.backends.Windows"
_SUFFIX = ".json"
_guard = threading.local()


@contextlib.contextmanager
def _reentry_guard() -> Iterator[bool]:
    """True when this thread is already inside another backend on our behalf."""
    if getattr(_guard, "active", False):
        yield True
        return
    _guard.active = True
    try:
        yield False
    finally:
        _guard.active = False


def backend_name(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _priority(backend: KeyringBackend) -> float:
    try:
        return float(backend.priority)
    except Exception:  # a backend that cannot tell is not viable
        return 0.0


def storage_backends(backends: Iterable[KeyringBackend]) -> list[KeyringBackend]:
    """Backends that may hold our PATs, best first: not us, not the chainer, priority > 0."""
    from keyring.backends.chainer import ChainerBackend

    usable = [
        b
        for b in backends
        if not type(b).__module__.startswith("keyrings.azure_artifacts")
        and not isinstance(b, ChainerBackend)
        and _priority(b) > 0
    ]
    return sorted(usable, key=_priority, reverse=True)


def installed_backends() -> list[KeyringBackend]:
    """Every viable backend keyring knows (cached by keyring); never `get_keyring()`."""
    with _reentry_guard() as nested:
        if nested:
            return []
        try:
            from keyring.backend import get_all_keyring

            return storage_backends(get_all_keyring())
        except Exception as exc:
            get_logger().debug("pat store: listing keyring backends failed (%s)", type(exc).__name__)
            return []


class PatStore:
    """PAT records by key: secret in the best other backend that takes it, else in a 0600 file."""

    def __init__(self, directory: Path, backends: Optional[list[KeyringBackend]] = None) -> None:
        """`backends`: keyring backends to try, best first (default: the installed ones)."""
        self.directory = Path(directory)
        self._backends = backends

    def __repr__(self) -> str:
        return f"PatStore({str(self.directory)!r})"

    @property
    def backends(self) -> list[KeyringBackend]:
        if self._backends is None:
            self._backends = installed_backends()
        return self._backends

    def _path(self, key: str) -> Path:
        if not is_key(key):
            raise ValueError("PAT store keys are sha256 hex (use cache_key())")
        return self.directory / (key + _SUFFIX)

    def _index(self, key: str) -> Optional[tuple[str, StoredPat]]:
        data = read_json(self._path(key))
        if not isinstance(data, dict) or not isinstance(data.get("store"), str):
            return None
        record = StoredPat.from_json(data.get("pat"))
        return None if record is None else (data["store"], record)

    def get(self, key: str) -> Optional[StoredPat]:
        """The stored PAT with its secret, or None (absent, unreadable, or its keyring is gone)."""
        found = self._index(key)
        if found is None:
            return None
        store, record = found
        if store == FILE:
            return record if record.secret else None
        backend = self._backend(store)
        if backend is None:
            get_logger().debug("pat store: %s is not available; PAT %s unreadable", store, key[:12])
            return None
        secret = self._read(backend, service_name(key), key)
        if secret is not None and fingerprint(secret) == self._fingerprint(key):
            return replace(record, secret=secret)
        old = StoredPat.from_json(_loads(self._read(backend, SERVICE, key) or ""))
        if old is None or old.authorization_id != record.authorization_id:
            return None
        if self.put(key, old):  # an older version's shared record: stored again per key, then dropped
            self._delete(backend, SERVICE, key)
        return old

    def ensure_writable(self) -> None:
        """Raise StateNotWritable (naming the directory and the fix) when a PAT made now could
        not be indexed: it would be orphaned on the server for its whole lifetime."""
        probe_writable(self.directory, "no PAT was created")

    def put(self, key: str, record: StoredPat) -> str:
        """Keep `record`; returns where the secret went (a backend name, "file", or "" when the
        index could not be written: the PAT then lives only in this process)."""
        path = self._path(key)
        old = self._index(key)
        store = self._keep_in_keyring(key, record)
        try:
            if store is None:
                store = FILE
                atomic_write_json(path, {"v": 1, "store": FILE, "pat": record.to_json()})
            else:
                index = {"v": 1, "store": store, "pat": record.public().to_json()}
                atomic_write_json(path, {**index, "secret": fingerprint(record.secret)})
        except OSError as exc:
            write_failed(self.directory, exc, f"the PAT '{record.display_name}' is not kept")
            return ""
        if old is not None and old[0] != FILE and old[0] != store:
            self._drop_from_keyring(old[0], key)
        get_logger().debug("pat store: stored %s in %s", key[:12], store)
        return store

    def _fingerprint(self, key: str) -> Optional[str]:
        data = read_json(self._path(key))
        return data.get("secret") if isinstance(data, dict) else None

    def mark_refused(self, key: str) -> None:
        """Note that the token service refused this PAT (revoked, expired early): `status` shows
        it, and the next lookup replaces it. The next `put` for the key clears the mark."""
        path = self._path(key)
        data = read_json(path)
        if isinstance(data, dict):
            try:
                atomic_write_json(path, {**data, "refused": True})
            except OSError as exc:
                write_failed(self.directory, exc, "the refused PAT is not marked")

    def refused(self, key: str) -> bool:
        data = read_json(self._path(key))
        return isinstance(data, dict) and data.get("refused") is True

    def delete(self, key: str) -> bool:
        """Forget a PAT (its keyring credential too); False when the index file stays."""
        found = self._index(key)
        if found is not None and found[0] != FILE:
            self._drop_from_keyring(found[0], key)
        return remove(self._path(key))

    def entries(self) -> list[tuple[str, StoredPat]]:
        """Every indexed PAT, without secrets, sorted by key."""
        if not self.directory.is_dir():
            return []
        out: list[tuple[str, StoredPat]] = []
        for path in sorted(self.directory.glob("*" + _SUFFIX)):
            key = path.name[: -len(_SUFFIX)]
            if not is_key(key):
                continue
            found = self._index(key)
            if found is not None:
                out.append((key, found[1].public()))
        return out

    # -- the other backend ----------------------------------------------------------------
    def _keep_in_keyring(self, key: str, record: StoredPat) -> Optional[str]:
        candidates = self.backends  # listed before the guard: listing takes the guard itself
        with _reentry_guard() as nested:
            if nested:
                return None
            for backend in candidates:
                if not fits(backend, record.secret):
                    get_logger().debug("pat store: the PAT is too long for %s", backend_name(backend))
                    continue
                try:
                    backend.set_password(service_name(key), key, record.secret)
                except Exception as exc:  # locked Secret Service, read-only plugin, ...: next
                    get_logger().debug(
                        "pat store: %s refused the PAT (%s)", backend_name(backend), type(exc).__name__
                    )
                    continue
                return backend_name(backend)
        return None

    def _read(self, backend: KeyringBackend, service: str, key: str) -> Optional[str]:
        with _reentry_guard() as nested:
            if nested:
                return None
            try:
                raw = backend.get_password(service, key)
            except Exception as exc:  # locked, gone, or refusing: as if absent
                get_logger().debug(
                    "pat store: %s refused to read (%s)", backend_name(backend), type(exc).__name__
                )
                return None
        return raw if isinstance(raw, str) and raw else None

    def _backend(self, name: str) -> Optional[KeyringBackend]:
        return next((b for b in self.backends if backend_name(b) == name), None)

    def _drop_from_keyring(self, name: str, key: str) -> None:
        backend = self._backend(name)
        if backend is not None:
            for service in (service_name(key), SERVICE):  # and an older version's shared record
                self._delete(backend, service, key)

    def _delete(self, backend: KeyringBackend, service: str, key: str) -> None:
        with _reentry_guard() as nested:
            if nested:
                return
            try:
                backend.delete_password(service, key)
            except Exception as exc:  # absent, locked, refusing
                get_logger().debug(
                    "pat store: %s did not delete (%s)", backend_name(backend), type(exc).__name__
                )


def service_name(key: str) -> str:
    """The keyring service of one PAT: its own credential, so writers never share one."""
    return f"{SERVICE} {key}"


def fits(backend: KeyringBackend, secret: str) -> bool:
    """False when Windows Credential Manager would refuse the secret (UTF-16, 2560 bytes)."""
    if not type(backend).__module__.startswith(WINDOWS_BACKEND):
        return True
    return len(secret.encode("utf-16-le")) <= CREDENTIAL_BLOB_LIMIT


def _loads(raw: str) -> Any:
    import json

    try:
        return json.loads(raw)
    except ValueError:
        return None
