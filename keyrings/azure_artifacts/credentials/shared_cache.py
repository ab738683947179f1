"""`shared_cache`: silent sign-in with an account already in our persisted MSAL cache."""

from __future__ import annotations

from .._log import get_logger
from ..errors import AuthenticationFailed, CredentialUnavailable, UntrustedCertificate
from ._util import one_line
from .base import AccessToken, Flow, FlowOptions
from .msal_user import (
    EXPIRED_ERRORS,
    application,
    authority_url,
    cache_path,
    cached_account_entries,
    pick_account,
    token_from_result,
)


def unavailable_reason(options: FlowOptions) -> str | None:
    """Why silent sign-in cannot run (no state dir, no cache file); accounts are checked on use."""
    path = cache_path(options)
    if path is None:
        return "no state directory for a token cache"
    if not path.exists():
        return "no cached sign-in"
    return None


class SharedCacheFlow(Flow):
    """Picks the cached account by tenant and login hint; an expired sign-in passes to the next flow."""

    name = "shared_cache"

    unavailable = staticmethod(unavailable_reason)

    def fetch(self, scope: str) -> AccessToken:
        options = self.options
        authority = authority_url(options)
        home_id = pick_account(cached_account_entries(options), authority, options.tenant, options.login_hint)
        if home_id is None:
            raise CredentialUnavailable(_no_account(options))
        app = application(options)
        account = next((a for a in app.get_accounts() if a.get("home_account_id") == home_id), None)
        if account is None:
            raise CredentialUnavailable(_no_account(options))
        get_logger().debug("shared_cache: silent sign-in for %s at %s", account.get("username"), authority)
        try:
            result = app.acquire_token_silent_with_error([scope], account)
        except UntrustedCertificate:
            raise  # its own message, whole (tls.py)
        except Exception as exc:  # requests errors while refreshing
            raise AuthenticationFailed(f"refresh failed: {type(exc).__name__}: {one_line(exc)}") from None
        if result is None or result.get("error") in EXPIRED_ERRORS:
            raise CredentialUnavailable("cached sign-in expired")
        return token_from_result(result)


def _no_account(options: FlowOptions) -> str:
    where = f" for tenant {options.tenant}" if options.tenant else ""
    who = f" and user {options.login_hint}" if options.login_hint else ""
    return f"no cached sign-in{where}{who}"
