"""What a lookup consulted: environment variables and files, recorded as digests.

The full path reads the environment only through a `RecordingEnviron` and files through
`Inputs.read_file`, so the list of its inputs is whatever the code actually read, never a
hand-kept list. The warm path (`warm.py`) stores that list and reuses an answer only while
every recorded input still has the digest it had. Values enter only as sha256 digests, so
a secret in the environment is never written down.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Optional

ABSENT = "-"


def digest(value: Optional[bytes]) -> str:
    """sha256 of a value, or ABSENT for an unset variable or a missing file."""
    return ABSENT if value is None else hashlib.sha256(value).hexdigest()


def env_digest(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name)
    return digest(None if value is None else value.encode("utf-8", "surrogateescape"))


def file_digest(path: str) -> str:
    """Digest of a file's bytes; an unreadable file counts as absent (as its reader treats it)."""
    try:
        with open(path, "rb") as handle:
            return digest(handle.read())
    except OSError:
        return ABSENT


class RecordingEnviron(Mapping[str, str]):
    """A read-only view of an environment that remembers the name of every variable read."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.read: set[str] = set()
        self.whole = False  # True once someone iterated it: every variable is then an input

    def __getitem__(self, name: str) -> str:
        self.read.add(name)
        return self._environ[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.read.add(name)
        return name in self._environ

    def __iter__(self) -> Iterator[str]:
        self.whole = True
        return iter(self._environ)

    def __len__(self) -> int:
        self.whole = True
        return len(self._environ)

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:  # type: ignore[override]
        self.read.add(name)
        return self._environ.get(name, default)


class Inputs:
    """The environment a lookup runs in, plus the files it read; `snapshot()` freezes the record."""

    def __init__(self, environ: Optional[Mapping[str, str]] = None) -> None:
        self.environ = RecordingEnviron(os.environ if environ is None else environ)
        self.files: set[str] = set()

    def note_file(self, path: Path) -> None:
        """Record that the answer depends on this file's bytes (or on its absence)."""
        self.files.add(str(path))

    def snapshot(self) -> Optional[dict[str, dict[str, str]]]:
        """Every input read so far with its digest; None when the whole environment was read."""
        if self.environ.whole:
            return None
        base = self.environ._environ
        return {
            "env": {name: env_digest(base, name) for name in sorted(self.environ.read)},
            "files": {path: file_digest(path) for path in sorted(self.files)},
        }


def unchanged(recorded: object, environ: Mapping[str, str]) -> bool:
    """True when every input in a snapshot still has the digest it had (malformed: False)."""
    if not isinstance(recorded, dict):
        return False
    env, files = recorded.get("env"), recorded.get("files")
    if not isinstance(env, dict) or not isinstance(files, dict):
        return False
    for name, value in env.items():
        if not isinstance(name, str) or env_digest(environ, name) != value:
            return False
    return all(isinstance(path, str) and file_digest(path) == value for path, value in files.items())


def unrecorded(environ: Mapping[str, str]) -> Mapping[str, str]:
    """The environment behind a RecordingEnviron, for reads that do not choose the answer (where
    requests may go) and so must not send the warm path down the full path when they change."""
    return environ._environ if isinstance(environ, RecordingEnviron) else environ
