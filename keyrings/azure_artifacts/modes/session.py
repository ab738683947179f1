"""`auth = session`: the Entra token exchanged for a short-lived Azure DevOps session token.

A service identity whose exchange is refused falls back to its Entra token as the password,
as Microsoft's credential provider hands a service connection's token to the client.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .._log import get_logger, one_line
from ..errors import AuthenticationFailed
from . import CachedMode, request_scopes

if TYPE_CHECKING:
    from ..cache import CachedSecret
    from ..signin import Grant, SignIn

MAX_LIFETIME = 366 * 86400


class SessionMode(CachedMode):
    kind = "session"

    def issue(self, signin: SignIn, grant: Grant) -> CachedSecret:
        from .._text import display_name
        from ..cache import CachedSecret
        from ..exchange.session import create_session_token

        settings, ref, ctx = signin.resolution.settings, signin.resolution.ref, signin.ctx
        scopes = request_scopes(settings.scopes, ref.upload)
        valid_to = datetime.fromtimestamp(ctx.now() + settings.session_duration, tz=timezone.utc)
        try:
            issued = create_session_token(
                ctx.http(settings.timeout),
                grant.authority.vssps_url,
                grant.token.token,
                scopes,
                valid_to,
                display_name(ref.org),
            )
        except AuthenticationFailed as exc:
            if not grant.app_only:
                raise
            from .bearer import bearer_secret

            get_logger().debug(
                "session token refused for %s (%s): using its Entra token as the password",
                grant.flow,
                one_line(exc),
            )
            return bearer_secret(signin, grant)
        meta = {
            "tenant": grant.authority.tenant or "",
            "vssps_url": grant.authority.vssps_url,
            "flow": grant.flow,
            "host": ref.netloc,
        }
        if issued.authorization_id:
            meta["authorization_id"] = issued.authorization_id
        expires_at = min(issued.expires_at, int(ctx.now()) + MAX_LIFETIME)
        return CachedSecret(
            "session", issued.token, settings.username, expires_at, ref.org, ref.project, ref.feed,
            issued.scopes or scopes, meta,
        )  # fmt: skip
