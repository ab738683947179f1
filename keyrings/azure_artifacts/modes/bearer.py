"""`auth = bearer`: the Entra access token itself is the password."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import CachedMode

if TYPE_CHECKING:
    from ..cache import CachedSecret
    from ..signin import Grant, SignIn

# An expiry claim beyond this is not believed: the cached token is dropped by then at the latest.
MAX_LIFETIME = 24 * 3600


def bearer_secret(signin: SignIn, grant: Grant) -> CachedSecret:
    from ..cache import CachedSecret

    settings, ref = signin.resolution.settings, signin.resolution.ref
    expires_at = min(int(grant.token.expires_on), int(signin.ctx.now()) + MAX_LIFETIME)
    meta = {
        "tenant": grant.authority.tenant or "",
        "vssps_url": grant.authority.vssps_url,
        "flow": grant.flow,
        "host": ref.netloc,
    }
    return CachedSecret(
        "bearer", grant.token.token, settings.username, expires_at, ref.org, ref.project, ref.feed, (), meta
    )


class BearerMode(CachedMode):
    kind = "bearer"

    def issue(self, signin: SignIn, grant: Grant) -> CachedSecret:
        return bearer_secret(signin, grant)
