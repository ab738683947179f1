"""The persisted MSAL token cache: msal-extensions' encrypted persistence where the platform has
one (Keychain, libsecret, DPAPI), else a 0600 file we open ourselves; under our own lock.

msal-extensions' `FilePersistence` follows a symlink planted at the cache path (the refresh
token would be written to, or read from, the planter's file) and its lock without portalocker
is a create-exclusive file that a killed process leaves behind. So the plain file here is read
with `O_NOFOLLOW` and owner/mode checks and written atomically (`statefs`), the signal file of
the encrypted persistences is the same safe file, and the cache is locked with `statefs.file_lock`
(an OS lock that dies with its process). msal and msal-extensions are imported inside functions.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._log import get_logger
from ..errors import AzureArtifactsError
from ..statefs import (
    atomic_write_bytes,
    check_trusted,
    ensure_dir,
    file_lock,
    read_private,
    remove,
    warn_on_write_failure,
    write_failed,
)
from ._util import one_line

LOCK_TIMEOUT = 30.0
NOT_KEPT = "the sign-in is not kept for the next process"
# Caches whose OS keyring failed in this process: they use the plain file until it ends.
_fallen: set[Path] = set()


class SafeFile:
    """A 0600 file persistence (msal-extensions' interface) that never follows a symlink."""

    is_encrypted = False

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def save(self, content: str) -> None:
        atomic_write_bytes(self.path, content.encode("utf-8"))

    def load(self) -> str:
        raw = read_private(self.path)  # None: absent, a symlink, not ours or too open
        if raw is None:
            raise FileNotFoundError(str(self.path))
        return raw.decode("utf-8", "replace")

    def time_last_modified(self) -> float:
        return os.lstat(self.path).st_mtime  # a symlink's own time: load() refuses it anyway

    def touch(self) -> None:
        """The encrypted persistences' signal file: created 0600 without following a symlink."""
        fd = os.open(str(self.path), os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.utime(fd if os.utime in os.supports_fd else str(self.path))
        finally:
            os.close(fd)

    def get_location(self) -> str:
        return str(self.path)


def encrypted(path: Path, environ: Mapping[str, str]) -> Any:
    """msal-extensions' encrypted persistence for this platform; raises when there is none."""
    if sys.platform.startswith("linux") and not environ.get("DBUS_SESSION_BUS_ADDRESS"):
        raise RuntimeError("no D-Bus session for libsecret")
    from msal_extensions import build_encrypted_persistence

    persistence = build_encrypted_persistence(str(path))
    if hasattr(persistence, "_file_persistence"):  # Keychain, libsecret: their signal file
        persistence._file_persistence = SafeFile(path)
    return persistence


def persistence(path: Path, environ: Mapping[str, str]) -> Any:
    """Encrypted where the platform has it, else the 0600 file (said once, at info level)."""
    if path in _fallen:
        return SafeFile(path)
    try:
        return encrypted(path, environ)
    except Exception as exc:  # missing libsecret/gi, locked keychain, unsupported platform
        reason = one_line(exc, type(exc).__name__)
    get_logger().info("MSAL token cache: plain 0600 file %s (encryption unavailable: %s)", path, reason)
    return SafeFile(path)


def _not_found() -> tuple[type[BaseException], ...]:
    from msal_extensions.persistence import PersistenceNotFound

    return (FileNotFoundError, PersistenceNotFound)


def build(path: Path, environ: Mapping[str, str]) -> Any:
    """The token cache for `path`: msal's SerializableTokenCache kept in step with the persistence."""
    import msal

    class LockedTokenCache(msal.SerializableTokenCache):  # type: ignore[misc]
        """msal-extensions' PersistedTokenCache, with our lock and the fallback to the file."""

        def __init__(self) -> None:
            super().__init__()
            self.path = path
            self.persistence = persistence(path, environ)
            self._last_sync = 0.0

        def _fall_back(self, exc: BaseException) -> bool:
            if isinstance(self.persistence, SafeFile):
                return False
            _fallen.add(self.path)
            get_logger().warning(
                "the OS keyring refused the sign-in cache (%s): using the 0600 file %s for the rest "
                "of this process",
                one_line(exc, type(exc).__name__),
                self.path,
            )
            self.persistence, self._last_sync = SafeFile(self.path), 0.0
            return True

        def reload(self) -> None:
            try:
                if self._last_sync < self.persistence.time_last_modified():
                    self.deserialize(self.persistence.load() or None)
                    self._last_sync = time.time()
            except _not_found():
                pass  # nothing saved yet: an empty cache
            except Exception as exc:  # Keychain "Deny", a session bus that does not answer, ...
                if self._fall_back(exc):
                    self.reload()
                else:
                    get_logger().debug("MSAL token cache: %s unreadable (%s)", self.path, type(exc).__name__)

        def save(self) -> None:
            try:
                self.persistence.save(self.serialize())
                self._last_sync = time.time()
            except (OSError, AzureArtifactsError) as exc:
                if isinstance(self.persistence, SafeFile):
                    write_failed(self.path.parent, exc, NOT_KEPT)
                elif self._fall_back(exc):
                    self.save()
            except Exception as exc:
                if self._fall_back(exc):
                    self.save()

        def modify(self, credential_type: Any, old_entry: Any, new_key_value_pairs: Any = None) -> None:
            with file_lock(self.path.with_name(self.path.name + ".lock"), LOCK_TIMEOUT):
                self.reload()
                super().modify(credential_type, old_entry, new_key_value_pairs=new_key_value_pairs)
                self.save()

        def search(self, credential_type: Any, **kwargs: Any) -> Any:
            self.reload()
            return super().search(credential_type, **kwargs)

    check_trusted(path.parent)  # UntrustedState: never read or write a sign-in there
    with warn_on_write_failure(path.parent, NOT_KEPT):
        ensure_dir(path.parent)  # 0700, parents it creates included
    return LockedTokenCache()


def clear(path: Path, environ: Mapping[str, str]) -> list[str]:
    """`logout --all`: save an empty cache through the persistence (so a sign-in kept in the
    Keychain or libsecret goes too), then remove the files. Returns what could not be cleared."""
    problems: list[str] = []
    kept = persistence(path, environ)
    if not isinstance(kept, SafeFile):
        try:
            kept.save("{}")
        except Exception as exc:
            problems.append(f"the sign-in in the OS keyring ({one_line(exc, type(exc).__name__)})")
    for name in (path.name, path.name + ".lock", path.name + ".lockfile"):
        if not remove(path.with_name(name)):
            problems.append(str(path.with_name(name)))
    return problems
