"""The secret-cache half of `auth = bearer` and `auth = session`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from .._log import fingerprint, get_logger
from ..secret import Secret
from .base import LOCK_TIMEOUT, Held, secret_key, settled_key

if TYPE_CHECKING:
    from ..cache import CachedSecret
    from ..signin import Grant, SignIn
    from ..urls import FeedRef

# Secrets of these kinds are cached per organization (their key holds no feed): one obtained for
# one feed serves every feed of the organization.
ORG_WIDE = ("bearer", "session")


class CachedMode:
    """Reuse a fresh entry of the secret cache, else obtain one under the key's inter-process
    lock, so concurrent processes sign in once between them."""

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

    def peek(self, signin: SignIn) -> Optional[Held]:
        found = signin.ctx.secret_cache().peek(self.key(signin))
        return None if found is None else Held(found.kind, found.expires_at, found.identity)

    def forget(self, signin: SignIn, revoke: bool) -> bool:
        """Drop every cached secret that serves this feed (the cache is shared by bearer and
        session, whose secrets serve their whole organization), and the entry under the key a
        lookup here computes when this is its mode. Nothing in the cache can be revoked."""
        used = self.key(signin) if signin.resolution.settings.auth == self.kind else None
        cache = signin.ctx.secret_cache()
        forgotten = False
        for key, entry in cache.entries():
            if key == used or serves(entry, signin.resolution.ref):
                cache.delete(key)
                forgotten = True
        return forgotten


def serves(entry: CachedSecret, ref: FeedRef) -> bool:
    """A cached secret a lookup for `ref` may use: same organization (and host, where the entry
    records one); an org-wide kind whatever feed it was first obtained for, others for this feed."""
    if entry.org.lower() != ref.org.lower():
        return False
    host = entry.meta.get("host")
    if host and host.lower() != ref.netloc.lower():
        return False
    if entry.kind in ORG_WIDE or not (ref.feed and entry.feed):
        return True
    return entry.feed.lower() == ref.feed.lower()
