"""One lookup for resolved settings: a credential handed over as it is, else the auth mode's
secret (cached, or obtained through sign-in and an exchange); and forgetting what was cached."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from .modes import mode_for
from .passthrough import hand_over
from .signin import SignIn

if TYPE_CHECKING:
    from .config.resolve import Resolution
    from .context import Context
    from .secret import Secret


def obtain(resolution: Resolution, ctx: Context, username: Optional[str] = None) -> Secret:
    """The secret for a feed; raises an AzureArtifactsError (one line) when there is none.

    A static PAT or an Azure Pipelines credential set now wins over anything cached earlier;
    checking them costs no request.
    """
    ctx.use_ca_bundle(resolution.ref.feed_url(), resolution.settings.ca_bundle)
    signin = SignIn(resolution, ctx)
    handed = hand_over(signin, username)
    if handed is not None:
        return handed
    return mode_for(resolution.settings.auth).obtain(signin, username)


def forget(resolution: Resolution, ctx: Context, revoke: bool = True) -> bool:
    """Forget cached secrets for the feed (every kind); PATs we created are revoked first when
    `revoke`. True when anything was forgotten."""
    from .pat.mode import PatMode

    ref = resolution.ref
    ctx.use_ca_bundle(ref.feed_url(), resolution.settings.ca_bundle)
    cache = ctx.secret_cache()
    forgotten = False
    for key, entry in cache.entries():
        if entry.org.lower() != ref.org.lower():
            continue
        if ref.feed and entry.feed and entry.feed.lower() != ref.feed.lower():
            continue
        cache.delete(key)
        forgotten = True
    return PatMode().forget(SignIn(resolution, ctx), revoke) or forgotten
