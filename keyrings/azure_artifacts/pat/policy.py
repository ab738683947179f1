"""The PAT lifecycle as pure decisions: reuse, rotate, replace or create, given `now`.

Nothing here does I/O: `mode` reads the store, asks `decide`, and acts on the answer
(create through `client`, keep through `store`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Optional

from .._log import fingerprint

# A PAT must outlive a lookup by this much to be handed out (the cache's freshness rule).
MIN_REMAINING = 300
READ_SCOPE = "vso.packaging"
WRITE_SCOPE = "vso.packaging_write"
# Scopes that let a PAT upload to a feed; `vso.packaging` alone only reads.
WRITE_SCOPES = frozenset({WRITE_SCOPE, "vso.packaging_manage", "app_token"})


class Action(enum.Enum):
    """What to do with the stored PAT for one key."""

    CREATE = "create"  # nothing usable stored
    REUSE = "reuse"  # valid for longer than the renewal window
    ROTATE = "rotate"  # still valid but inside the window: create a new one, then revoke this one
    REPLACE = "replace"  # expired, about to, or refused: create a new one; nothing left to revoke


@dataclass(frozen=True)
class StoredPat:
    """A PAT we created, with what we need to reuse, rotate and revoke it."""

    secret: str
    authorization_id: str
    created_at: int
    expires_at: int
    scopes: tuple[str, ...]
    host: str
    org: str
    project: Optional[str]
    feed: Optional[str]
    vssps_url: str
    display_name: str
    username: str
    service: str  # a feed URL that resolves to the settings it was created under

    def __repr__(self) -> str:
        return (
            f"StoredPat({fingerprint(self.secret)}, authorization_id={self.authorization_id!r}, "
            f"expires_at={self.expires_at}, scopes={self.scopes!r}, org={self.org!r}, feed={self.feed!r})"
        )

    def public(self) -> StoredPat:
        """The same record without its secret (for indexes, listings and status)."""
        return replace(self, secret="")

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "secret": self.secret,
            "authorization_id": self.authorization_id,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "scopes": list(self.scopes),
            "host": self.host,
            "org": self.org,
            "project": self.project,
            "feed": self.feed,
            "vssps_url": self.vssps_url,
            "display_name": self.display_name,
            "username": self.username,
            "service": self.service,
        }

    @classmethod
    def from_json(cls, data: Any) -> Optional[StoredPat]:
        """Parse the stored form; None for anything malformed (never raises)."""
        if not isinstance(data, dict) or data.get("v") != 1:
            return None
        texts = (
            "secret",
            "authorization_id",
            "host",
            "org",
            "vssps_url",
            "display_name",
            "username",
            "service",
        )
        if not all(isinstance(data.get(k), str) for k in texts):
            return None
        times = (data.get("created_at"), data.get("expires_at"))
        if not all(isinstance(t, int) and not isinstance(t, bool) for t in times):
            return None
        scopes = data.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            return None
        if not all(data.get(k) is None or isinstance(data.get(k), str) for k in ("project", "feed")):
            return None
        return cls(
            secret=data["secret"],
            authorization_id=data["authorization_id"],
            created_at=data["created_at"],
            expires_at=data["expires_at"],
            scopes=tuple(scopes),
            host=data["host"],
            org=data["org"],
            project=data.get("project"),
            feed=data.get("feed"),
            vssps_url=data["vssps_url"],
            display_name=data["display_name"],
            username=data["username"],
            service=data["service"],
        )


def pat_scopes(scopes: Iterable[str], upload: bool) -> tuple[str, ...]:
    """The scopes to ask for: as configured, but an upload URL always gets a PAT that can write.

    A read-only PAT would only earn a 403 from the upload endpoint, so for upload URLs
    `vso.packaging` is widened to `vso.packaging_write` (or the write scope is added).
    """
    wanted = tuple(dict.fromkeys(s for s in scopes if s))
    if not upload or WRITE_SCOPES.intersection(wanted):
        return wanted or ((WRITE_SCOPE,) if upload else (READ_SCOPE,))
    widened = tuple(WRITE_SCOPE if s == READ_SCOPE else s for s in wanted)
    return widened if WRITE_SCOPE in widened else (*widened, WRITE_SCOPE)


def can_upload(scopes: Iterable[str]) -> bool:
    return bool(WRITE_SCOPES.intersection(scopes))


def renew_window(lifetime: int, renew_before: int) -> int:
    """How long before expiry to rotate: `pat_renew_before`, but never more than half the lifetime,
    so a short `pat_duration` does not make every lookup create a PAT."""
    return max(0, min(renew_before, lifetime // 2))


def decide(
    stored: Optional[StoredPat],
    now: float,
    renew_before: int,
    wanted: Sequence[str],
    upload: bool,
    refused: bool = False,
) -> Action:
    """What to do with `stored` for a lookup that needs `wanted` scopes; `refused`: the token
    service refused it the last time it was asked (revoked or expired on the server)."""
    if stored is None or not stored.secret:
        return Action.CREATE
    if not set(wanted) <= set(stored.scopes) or (upload and not can_upload(stored.scopes)):
        return Action.CREATE  # a different PAT's business; this one is left alone
    if refused:
        return Action.REPLACE  # nothing left to revoke
    remaining = stored.expires_at - now
    if remaining <= MIN_REMAINING:
        return Action.REPLACE
    if remaining <= renew_window(stored.expires_at - stored.created_at, renew_before):
        return Action.ROTATE
    return Action.REUSE


def keeps_current(action: Action) -> bool:
    """When making the new PAT fails: a rotation keeps handing out the current one until it
    expires; anything else has no usable PAT to fall back on."""
    return action is Action.ROTATE


def valid_to(now: float, duration: int) -> datetime:
    """The expiry to ask for: `pat_duration` from now, whole seconds, UTC."""
    return datetime.fromtimestamp(int(now) + duration, tz=timezone.utc)
