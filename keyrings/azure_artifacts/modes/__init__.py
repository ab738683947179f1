"""One object per auth mode (`bearer`, `session`, `pat`), each answering the `AuthMode` protocol
(`modes/base.py`): `obtain`, `key`, `peek` and `forget`. Bearer and session tokens live in the
secret cache (`modes/cached.py`); PATs have their own lifecycle and store (`pat/`). This module
is the factory only: the modes import what they share from `base`, below it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import AuthMode


def mode_for(auth: str) -> AuthMode:
    if auth == "bearer":
        from .bearer import BearerMode

        return BearerMode()
    if auth == "session":
        from .session import SessionMode

        return SessionMode()
    if auth == "pat":
        from ..pat.mode import PatMode

        return PatMode()
    raise ValueError(f"unknown auth mode {auth!r}")


def every_mode() -> list[AuthMode]:
    """Every mode, in the order `logout` forgets them: the secret cache first, then stored PATs."""
    return [mode_for(auth) for auth in ("bearer", "session", "pat")]
