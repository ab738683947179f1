"""`auth = session`: the Entra token exchanged for a short-lived Azure DevOps session token.

A service identity whose exchange is refused falls back to its Entra token as the password, as
Microsoft's credential provider always hands a service identity's token over (it never exchanges
one). The refusal is remembered per organization and identity kind for a day, so later cold
lookups hand the token over without another refused request (docs/service-identities.md).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Optional

from .._log import get_logger, one_line
from ..errors import AzureArtifactsError, ServiceError, TokenRefused
from ..microsoft import SESSION_TOKEN_MAX_LIFETIME
from .base import identity_meta, request_scopes
from .cached import CachedMode

if TYPE_CHECKING:
    from pathlib import Path

    from ..cache import AgedStore, CachedSecret
    from ..signin import Grant, SignIn

# A longer `session_duration` is not asked for: the service would not give it.
MAX_LIFETIME = SESSION_TOKEN_MAX_LIFETIME
REFUSALS_FILE = "exchange_refusals.json"
REMEMBER_REFUSAL = 24 * 3600


def refusals(state_dir: Path, now: Callable[[], float]) -> AgedStore:
    """Organizations whose token service refused a service identity's exchange, per identity kind."""
    from ..cache import AgedStore

    return AgedStore(state_dir / REFUSALS_FILE, REMEMBER_REFUSAL, now)


def remembered(state_dir: Path, now: Callable[[], float], host: str, org: str) -> list[tuple[str, str, int]]:
    """(identity kind, why, until) of every refusal remembered for this organization (`explain`)."""
    from ..cache import read_json

    data = read_json(state_dir / REFUSALS_FILE)
    prefix = f"{host}/{org}|".lower()
    store = refusals(state_dir, now)
    found = []
    for key in sorted(data) if isinstance(data, dict) else ():
        entry = store.get(key) if key.startswith(prefix) else None
        if entry is not None:
            found.append((key[len(prefix) :], str(entry.get("why", "")), int(entry["at"]) + REMEMBER_REFUSAL))
    return found


def refusal_key(host: str, org: str, kind: str) -> str:
    return f"{host}/{org}|{kind}".lower()


def bearer_instead(exc: AzureArtifactsError) -> Optional[str]:
    """Why a service identity hands over its Entra token after this exchange failure (any 4xx, a
    203 or a sign-in redirect: the service will not exchange this identity's token), or None when
    the failure says nothing about the identity (an outage, a timeout)."""
    if isinstance(exc, TokenRefused):
        return one_line(exc)
    status = exc.status if isinstance(exc, ServiceError) else None
    if status is not None and (400 <= status < 500 or status == 203):
        return one_line(exc)
    return None


class SessionMode(CachedMode):
    kind = "session"

    def issue(self, signin: SignIn, grant: Grant) -> CachedSecret:
        from .._text import display_name
        from ..cache import CachedSecret
        from ..exchange.session import create_session_token

        settings, ref, ctx = signin.resolution.settings, signin.resolution.ref, signin.ctx
        memory = refusals(ctx.state_dir(), ctx.now)
        key = refusal_key(ref.netloc, ref.org, grant.flow)
        if grant.app_only:
            earlier = memory.get(key)
            if earlier is not None:
                return self.bearer(signin, grant, f"exchange refused earlier: {earlier.get('why', '')}")
        scopes = request_scopes(settings.scopes, ref.upload)
        lifetime = min(settings.session_duration, MAX_LIFETIME)
        valid_to = datetime.fromtimestamp(int(ctx.now()) + lifetime, tz=timezone.utc)
        try:
            issued = create_session_token(
                signin.http(),
                grant.authority.vssps_url,
                grant.token.token,
                scopes,
                valid_to,
                display_name(ref.org),
            )
        except AzureArtifactsError as exc:
            why = bearer_instead(exc) if grant.app_only else None
            if why is None:
                raise  # a person's refused token: the chain tries the next flow (never the feed)
            try:
                memory.put(key, {"why": why})
            except OSError as error:
                get_logger().debug("session: could not remember the refusal (%s)", one_line(error))
            return self.bearer(signin, grant, f"exchange refused: {why}")
        meta = {
            "tenant": grant.authority.tenant or "",
            "vssps_url": grant.authority.vssps_url,
            "flow": grant.flow,
            **identity_meta(grant),
            "host": ref.netloc,
        }
        if issued.authorization_id:
            meta["authorization_id"] = issued.authorization_id
        expires_at = min(issued.expires_at, int(ctx.now()) + MAX_LIFETIME)
        return CachedSecret(
            "session", issued.token, settings.username, expires_at, ref.org, ref.project, ref.feed,
            issued.scopes or scopes, meta,
        )  # fmt: skip

    def bearer(self, signin: SignIn, grant: Grant, why: str) -> CachedSecret:
        """The service identity's Entra token as the password, saying why (status, explain)."""
        from .bearer import bearer_secret

        get_logger().debug("session: %s; %s hands over its Entra token", why, grant.flow)
        secret = bearer_secret(signin, grant)
        secret.meta["why"] = why
        return secret
