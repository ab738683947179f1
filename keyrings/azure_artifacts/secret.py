"""What a lookup hands back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ._log import fingerprint


@dataclass(frozen=True)
class Secret:
    """A username and secret for one feed; `key` names the secret-cache entry it came from
    (None for PATs and for credentials handed over as they are)."""

    username: str
    secret: str
    kind: str
    expires_at: Optional[int] = None
    key: Optional[str] = None
    scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Secret({self.kind}, {self.username!r}, {fingerprint(self.secret)}, expires_at={self.expires_at})"
