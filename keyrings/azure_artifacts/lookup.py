"""One lookup for resolved settings: a credential handed over as it is, else the auth mode's
secret (cached, or obtained through sign-in and an exchange); and forgetting what was cached."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from .modes import every_mode, mode_for
from .passthrough import hand_over
from .signin import SignIn, refuse_plain_http

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
    if handed is None or handed.kind != "static":
        refuse_plain_http(resolution.ref)
    if handed is not None:
        return handed
    return mode_for(resolution.settings.auth).obtain(signin, username)


def forget(resolution: Resolution, ctx: Context, revoke: bool = True) -> bool:
    """Forget what every auth mode keeps for this feed (whichever mode is configured now): cached
    secrets that serve it, and PATs we created, revoked first when `revoke`. True when anything
    was forgotten."""
    ref = resolution.ref
    ctx.use_ca_bundle(ref.feed_url(), resolution.settings.ca_bundle)
    signin = SignIn(resolution, ctx)
    forgotten = False
    for mode in every_mode():
        forgotten = mode.forget(signin, revoke) or forgotten
    return forgotten
