"""One lookup for resolved settings: a credential handed over as it is, else the auth mode's
secret (cached, or obtained through sign-in and an exchange); and forgetting what was cached."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from .modes import mode_for
from .passthrough import hand_over
from .signin import SignIn, refuse_plain_http

if TYPE_CHECKING:
    from .cache import CachedSecret
    from .config.resolve import Resolution
    from .context import Context
    from .secret import Secret
    from .urls import FeedRef


def obtain(resolution: Resolution, ctx: Context, username: Optional[str] = None) -> Secret:
    """The secret for a feed; raises an AzureArtifactsError (one line) when there is none.

    A static PAT or an Azure Pipelines credential set now wins over anything cached earlier;
    checking them costs no request.
    """
    ctx.use_ca_bundle(resolution.ref.feed_url(), resolution.settings.ca_bundle)
    signin = SignIn(resolution, ctx)
    handed = hand_over(signin, username)
    if handed is None or handed.kind != "static":
        refuse_plain_http(resolution.ref)
    if handed is not None:
        return handed
    return mode_for(resolution.settings.auth).obtain(signin, username)


# Secrets of these kinds are cached per organization (their key holds no feed): one obtained for
# one feed serves every feed of the organization.
ORG_WIDE = ("bearer", "session")


def forget(resolution: Resolution, ctx: Context, revoke: bool = True) -> bool:
    """Forget the cached secrets this feed's lookups use (every kind): the entry under the key a
    lookup here computes, and every entry that serves this feed (`serves`); PATs we created are
    revoked first when `revoke`. True when anything was forgotten."""
    from .pat.mode import PatMode

    ctx.use_ca_bundle(resolution.ref.feed_url(), resolution.settings.ca_bundle)
    signin = SignIn(resolution, ctx)
    mode = mode_for(resolution.settings.auth)
    used = None if mode.kind == "pat" else mode.key(signin)
    cache = ctx.secret_cache()
    forgotten = False
    for key, entry in cache.entries():
        if key == used or serves(entry, resolution.ref):
            cache.delete(key)
            forgotten = True
    return PatMode().forget(signin, revoke) or forgotten


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
