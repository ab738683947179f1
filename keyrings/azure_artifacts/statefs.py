"""The state directory on disk: whether it may be trusted, and every way we touch files in it.

Trust (POSIX only): the state directory must be owned by the current user and writable by no
one else; every directory above it (as written and as resolved through symlinks) must be owned
by the current user or root and writable by no one else unless it is sticky, like `/tmp`: in a
sticky directory others cannot rename or replace entries they do not own. Whoever can write a
directory on the way can swap what lies below it, so one such directory is enough to refuse. On
Windows owners and mode bits do not describe access (the per-user profile does), so nothing is
refused there.

Files: read with `O_NOFOLLOW` and checked for owner and mode; written through a temp file and
`os.replace` (which replaces a symlink rather than following it), retried briefly when Windows
says another process holds the file; removed with the same retry. A failed write is said once
per directory, with the fix; the caller goes on without the state.

Locks: `fcntl.flock` (POSIX) or `msvcrt.locking` (Windows) on a lock file, polled until a
deadline. Unlike msal-extensions' `CrossPlatLock` without portalocker (a create-exclusive lock
file, fixed 5 s wait), the OS releases the lock when its holder dies, so a killed process never
leaves a stale lock behind, and the timeout is ours.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable, TypeVar

from ._log import get_logger
from .errors import AzureArtifactsError

ENV_STATE_DIR = "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR"
OWN_DIR_FIX = f"or set {ENV_STATE_DIR} to a directory only you can write"
# Windows: readers and antivirus open files without delete sharing, so os.replace/unlink fail
# with PermissionError for a moment. pip retries the same way (src/pip/_internal/utils/
# filesystem.py: `replace` wrapped in a short, bounded retry).
RETRY_WAITS = (0.05, 0.1, 0.2, 0.4)

_T = TypeVar("_T")
_warned: set[str] = set()


class UntrustedState(AzureArtifactsError):
    """The state directory, or one above it, can be changed by someone else: we neither read nor
    write there."""

    def __init__(self, path: Path, state: Path, why: str, fix: str) -> None:
        where = "the state directory" if path == state else f"above the state directory {state}"
        super().__init__(f"refusing {path} ({where}): {why}; {fix}")


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


class StateNotWritable(AzureArtifactsError):
    """A directory we must write (before creating something that would be lost) cannot be."""


def trust_problem(st: os.stat_result, uid: int, own: bool) -> str | None:
    """Why a directory with this stat may not hold (own=True) or lie above our state, or None."""
    if own:
        if st.st_uid != uid:
            return f"owned by uid {st.st_uid}, not by you (uid {uid})"
        if st.st_mode & 0o022:
            return "writable by group or others"
        return None
    if st.st_uid not in (uid, 0):
        return f"owned by uid {st.st_uid}, neither you (uid {uid}) nor root"
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        return "writable by group or others and not sticky"
    return None


def _fix(path: Path, st: os.stat_result, uid: int) -> str:
    if st.st_uid == uid:
        return f"run chmod go-w '{path}' {OWN_DIR_FIX}"
    return f"use a directory of your own: {OWN_DIR_FIX.removeprefix('or ')}"


def _above(path: Path) -> list[Path]:
    return [path, *path.parents]


def check_trusted(state: Path) -> None:
    """Raise UntrustedState when `state` or a directory above it is not safe (see the module)."""
    if os.name != "posix":
        return
    uid = os.geteuid()
    written = Path(os.path.abspath(state))
    chain = _above(written)
    chain += [p for p in _above(Path(os.path.realpath(written))) if p not in chain]
    for path in chain:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue  # we will create it, 0700
        except OSError:
            return  # cannot even look: the write fails later and says so
        why = trust_problem(st, uid, own=path == written)
        if why:
            raise UntrustedState(path, written, why, _fix(path, st, uid))


def make_dir(path: Path) -> None:
    """mkdir, 0700 on POSIX. Never a mode on Windows: since CPython 3.12.4 / 3.13 (and the
    3.9-3.11 security releases; CPython gh-118486) `mkdir(mode=0o700)` there gives the directory
    a protected ACL for its creator alone, so a run as administrator would lock the user out of
    their own state (and of keyring's shared data root); the user profile already protects it."""
    if sys.platform == "win32":
        path.mkdir()
    else:
        path.mkdir(mode=0o700)


def ensure_dir(directory: Path) -> Path:
    """Create the directory private to this user (0700), and every parent it has to create with
    it (`Path.mkdir(parents=True)` would leave those at the umask's 0755); tighten the directory
    itself if it already exists. Parents that exist already are not ours and are left alone.
    Raises UntrustedState before creating anything under a directory others can change."""
    check_trusted(directory)
    missing: list[Path] = []
    current = directory
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process may have just made it
            make_dir(path)
    if os.name == "posix":
        st = directory.stat()
        if st.st_mode & 0o077 and st.st_uid == os.geteuid():
            os.chmod(directory, 0o700)
    return directory


def retrying(action: Callable[[], _T], waits: tuple[float, ...] = RETRY_WAITS) -> _T:
    """`action()`, tried again after each wait while it raises PermissionError (bounded)."""
    for wait in waits:
        try:
            return action()
        except PermissionError:
            time.sleep(wait)
    return action()


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write `payload` to `path` as 0600 via a temp file in the same directory, fsync, replace."""
    ensure_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        if os.name == "posix":
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        retrying(lambda: os.replace(tmp, path))
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


def atomic_write_json(path: Path, data: Any) -> None:
    """Write JSON to `path` atomically as 0600 (see atomic_write_bytes)."""
    atomic_write_bytes(path, json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8"))


def read_private(path: Path) -> bytes | None:
    """The bytes of `path`, or None when it is absent, a symlink, unreadable, not ours or readable
    by others (such a file is removed when we may, so the next write rebuilds it). Never raises."""
    log = get_logger()
    try:
        fd = os.open(str(path), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:  # ELOOP: a symlink planted where our file belongs
        log.debug("state: cannot open %s (%s); ignored", path.name, type(exc).__name__)
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            if os.name == "posix":
                st = os.fstat(fh.fileno())
                if st.st_uid != os.geteuid() or st.st_mode & 0o077 or not stat.S_ISREG(st.st_mode):
                    log.debug("state: %s has wrong owner, mode or type; ignored", path.name)
                    discard(path)
                    return None
            return fh.read()
    except OSError as exc:
        log.debug("state: %s unreadable (%s); ignored", path.name, type(exc).__name__)
        return None


def read_json(path: Path) -> Any:
    """The JSON in `path` (read as read_private does), or None; a corrupt file is removed."""
    raw = read_private(path)
    if raw is None:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        get_logger().debug("state: %s corrupt (%s); discarded", path.name, type(exc).__name__)
        discard(path)
        return None


def discard(path: Path) -> None:
    """Remove quietly (a corrupt or foreign file); absent is fine."""
    with contextlib.suppress(OSError):
        path.unlink()


def remove(path: Path) -> bool:
    """Remove `path`, retrying while another process holds it (Windows); False when it stays."""
    try:
        retrying(lambda: path.unlink(missing_ok=True))
    except OSError as exc:
        get_logger().debug("state: could not remove %s (%s)", path, type(exc).__name__)
        return False
    return True


def write_failed(directory: Path, exc: BaseException, what: str = "the secret is not cached") -> None:
    """One warning per directory and process: a write failed, the lookup goes on without it."""
    if isinstance(exc, UntrustedState):
        message = str(exc)
    else:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        message = (
            f"cannot write to {directory} ({reason}): {what}; make it writable by you (remove it "
            f"if an administrator or sudo run created it), {OWN_DIR_FIX}"
        )
    if message not in _warned:
        _warned.add(message)
        get_logger().warning("%s", message)


def probe_writable(directory: Path, what: str) -> None:
    """Create and delete a file in `directory` (made if missing); raise StateNotWritable, naming
    the directory and the fix, when that fails. Trying is the only test that holds on Windows,
    where `os.access(dir, W_OK)` is always true (it reads the read-only attribute only)."""
    try:
        ensure_dir(directory)
        _try_write(directory)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StateNotWritable(
            f"cannot write to {directory} ({reason}): {what}; make it writable by you, {OWN_DIR_FIX}"
        ) from None


def writable(directory: Path) -> bool:
    """True when a file can be created and removed in the existing `directory` (by trying)."""
    try:
        _try_write(directory)
    except OSError:
        return False
    return True


def _try_write(directory: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".probe.", dir=str(directory))
    os.close(fd)
    os.unlink(tmp)


@contextlib.contextmanager
def warn_on_write_failure(directory: Path, what: str = "the secret is not cached") -> Iterator[None]:
    """Run a state write; an OSError becomes one warning line (see write_failed)."""
    try:
        yield
    except (OSError, UntrustedState) as exc:
        write_failed(directory, exc, what)


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
        fd = os.open(str(path), os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:  # ELOOP (a planted symlink) included: we never open its target
        # The write that follows fails too and says so (once): this is no news for the user.
        log.debug("cannot lock %s (%s): going on without the lock", path.parent, exc.__class__.__name__)
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
