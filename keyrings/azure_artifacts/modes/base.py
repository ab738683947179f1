"""What every auth mode shares: the protocol, the secret key and what is kept about a grant.

Below the modes (`bearer`, `session`, `pat/mode`) and above nothing of theirs, so each mode and
the factory (`modes.mode_for`) import it without a circle."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional, Protocol

if TYPE_CHECKING:
    from ..secret import Secret
    from ..signin import Grant, SignIn

LOCK_TIMEOUT = 60.0


@dataclass(frozen=True)
class Held:
    """What a lookup would reuse without a request (`explain`, `doctor`): never the secret."""

    kind: str
    expires_at: int
    identity: dict[str, str] = field(default_factory=dict)


class AuthMode(Protocol):
    """One auth mode: the secret for a lookup, what it holds already, and forgetting it."""

    kind: str

    def obtain(self, signin: SignIn, username: Optional[str]) -> Secret: ...

    def key(self, signin: SignIn) -> str: ...

    def peek(self, signin: SignIn) -> Optional[Held]:
        """What `obtain` would reuse for this lookup, read without a request or a lock."""
        ...

    def forget(self, signin: SignIn, revoke: bool) -> bool:
        """Drop what this mode keeps for the feed (revoking what the service lets us revoke, when
        `revoke`); True when anything went."""
        ...


def request_scopes(scopes: tuple[str, ...], upload: bool) -> tuple[str, ...]:
    """Scopes asked of the token service: an upload URL always gets a write scope."""
    from ..pat.policy import pat_scopes

    return pat_scopes(scopes, upload)


def secret_key(signin: SignIn, **more: str) -> str:
    """Everything that changes the secret, including every input that chooses the identity, as
    each credential flow states it (`SignIn.identity_inputs`): two identities never share a key."""
    from ..cache import cache_key

    settings, ref = signin.resolution.settings, signin.resolution.ref
    return cache_key(
        kind=settings.auth,
        host=ref.netloc.lower(),
        org=ref.org.lower(),
        scopes=sorted(request_scopes(settings.scopes, ref.upload)) if settings.auth != "bearer" else [],
        tenant=settings.tenant,
        authority_host=settings.authority_host,
        credential=list(settings.credential),
        client_id=settings.client_id,
        identity=signin.identity_inputs(),
        vssps_url=settings.vssps_url if settings.configured("vssps_url") else None,
        **more,
    )


def settled_key(signin: SignIn, grant: Grant, key: str, make: Callable[[SignIn], str]) -> str:
    """The key to store a new secret under. A person's first sign-in adds the account the key
    names, so key and warm-path inputs are taken again, now with the account in the MSAL cache;
    a process signing in silently next finds the secret."""
    from ..credentials.msal_user import UserFlow
    from ..credentials.registry import flow_class

    if not issubclass(flow_class(grant.flow), UserFlow):
        return key
    settled = make(signin)
    signin.ctx.decided()
    return settled


def identity_meta(grant: Grant) -> dict[str, str]:
    """What is kept with a cached secret about whom it was issued to (claims, never the token)."""
    return dict(grant.identity)
