"""One object per auth mode (`bearer`, `session`, `pat`), each answering `obtain(signin, username)`
with a `Secret`. Bearer and session tokens live in the secret cache (`CachedMode`); PATs have
their own lifecycle and store (`pat/`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional, Protocol

from .._log import fingerprint, get_logger
from ..secret import Secret

if TYPE_CHECKING:
    from ..cache import CachedSecret
    from ..signin import Grant, SignIn

LOCK_TIMEOUT = 60.0


class AuthMode(Protocol):
    kind: str

    def obtain(self, signin: SignIn, username: Optional[str]) -> Secret: ...

    def key(self, signin: SignIn) -> str: ...


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


class CachedMode:
    """The secret-cache half of bearer and session: reuse a fresh entry, else obtain one under the
    key's inter-process lock, so concurrent processes sign in once between them."""

    kind = ""

    def key(self, signin: SignIn) -> str:
        return secret_key(signin)

    def issue(self, signin: SignIn, grant: Grant) -> CachedSecret:
        raise NotImplementedError

    def obtain(self, signin: SignIn, username: Optional[str]) -> Secret:
        log = get_logger()
        cache = signin.ctx.secret_cache()
        key = self.key(signin)
        signin.ctx.decided()
        hit = cache.get(key)
        if hit is None:
            with cache.lock(key, timeout=LOCK_TIMEOUT):
                hit = cache.get(key)  # another process may have done the work while we waited
                if hit is None:
                    grant, hit = signin.exchange(lambda grant: (grant, self.issue(signin, grant)))
                    key = settled_key(signin, grant, key, self.key)
                    try:
                        cache.put(key, hit)
                    except OSError as exc:  # a full or read-only disk costs the cache, not the secret
                        from ..statefs import write_failed

                        write_failed(cache.directory, exc)
        else:
            log.debug("using cached %s secret %s", hit.kind, fingerprint(hit.secret))
        return Secret(username or hit.username, hit.secret, hit.kind, hit.expires_at, key, hit.scopes)
