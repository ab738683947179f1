"""What the user sign-in flows share: one MSAL PublicClientApplication per authority and client,
backed by a token cache persisted under `state_dir`, so the next process signs in silently.

msal and msal-extensions are imported inside functions only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Optional

from .._text import is_guid
from ..errors import AuthenticationFailed, AzureArtifactsError, CredentialUnavailable, UntrustedCertificate
from ..microsoft import DEFAULT_PUBLIC_CLIENT_ID
from ..urls import origin
from ._util import authority_host, is_microsoft_host, one_line
from .base import AccessToken, FlowOptions

CACHE_FILE_NAME = "msal_token_cache.bin"
_MULTI_TENANT = ("organizations", "common", "consumers")
# Refresh failures that mean "sign in again" rather than "something is broken".
EXPIRED_ERRORS = frozenset({"invalid_grant", "interaction_required", "login_required", "consent_required"})

_lock = threading.Lock()
_caches: dict[Path, Any] = {}
_apps: dict[tuple[object, ...], Any] = {}


def authority_url(options: FlowOptions) -> str:
    """`{authority_host}/{tenant}`, `organizations` when the tenant is not known."""
    return f"{authority_host(options)}/{options.tenant or 'organizations'}"


def cache_path(options: FlowOptions) -> Path | None:
    """Where the persisted MSAL token cache lives, or None when there is no state directory."""
    return None if options.state_dir is None else Path(options.state_dir) / CACHE_FILE_NAME


def forget_sign_ins(state_dir: Path, environ: Mapping[str, str] | None = None) -> list[str]:
    """`logout --all`: drop the persisted MSAL cache (refresh tokens, accounts) of `state_dir`,
    in the OS keyring too. Returns what could not be removed."""
    import os

    from ..statefs import remove
    from ._msal_cache import clear
    from ._msal_http import FILE_NAME as METADATA_FILE

    path = Path(state_dir) / CACHE_FILE_NAME
    with _lock:
        _caches.pop(path, None)
        for key in [k for k in _apps if k[2] == path]:
            del _apps[key]
    problems = clear(path, os.environ if environ is None else environ)
    metadata = Path(state_dir) / METADATA_FILE
    return problems if remove(metadata) else [*problems, str(metadata)]


def token_cache(options: FlowOptions) -> Any:
    """The persisted token cache for `options.state_dir` (one per directory and process)."""
    path = cache_path(options)
    if path is None:
        raise CredentialUnavailable("no state directory for a token cache")
    with _lock:
        cache = _caches.get(path)
        if cache is None:
            from ._msal_cache import build

            cache = build(path, options.environ)
            _caches[path] = cache
    return cache


def application(options: FlowOptions, *, broker: bool = False) -> Any:
    """A PublicClientApplication for these options; built once per process (OIDC discovery is a request)."""
    authority = authority_url(options)
    client_id = options.client_id or DEFAULT_PUBLIC_CLIENT_ID
    key = (client_id, authority, cache_path(options), broker, options.timeout)
    with _lock:
        app = _apps.get(key)
    if app is not None:
        return app
    import msal

    cache = token_cache(options) if options.state_dir is not None else msal.TokenCache()
    kwargs: dict[str, Any] = {
        "authority": authority,
        "instance_discovery": is_microsoft_host(authority),
        "token_cache": cache,
        "timeout": options.timeout,
    }
    from ._msal_http import MetadataCachingClient

    # msal ignores `timeout` when given a client: ours applies options.timeout itself. Always
    # ours, so msal's requests get the same trust and proxies as every other (tls.py).
    state = None if options.state_dir is None else Path(options.state_dir)
    kwargs["http_client"] = MetadataCachingClient(state, options.timeout)
    if broker:
        kwargs["enable_broker_on_windows"] = True  # the broker is offered on Windows only
    try:
        app = msal.PublicClientApplication(client_id, **kwargs)
    except ValueError as exc:  # msal: "Unable to get authority configuration for ..."
        raise AuthenticationFailed(one_line(exc)) from None
    except UntrustedCertificate:
        raise  # its own message, whole (tls.py)
    except AzureArtifactsError as exc:  # already one safe line
        raise AuthenticationFailed(one_line(exc)) from None
    except Exception as exc:  # network errors from requests during OIDC discovery
        raise AuthenticationFailed(f"cannot reach {authority}: {type(exc).__name__}") from None
    with _lock:
        _apps.setdefault(key, app)
    return app


def _tenant_matches(entry: Mapping[str, Any], tenant: str | None) -> bool:
    if not tenant or tenant.lower() in _MULTI_TENANT or not is_guid(tenant):
        return True  # a domain name cannot be matched offline; the authority pins it instead
    home_tenant = str(entry.get("home_account_id") or "").rpartition(".")[2]
    wanted = tenant.lower()
    return wanted in (str(entry.get("realm") or "").lower(), home_tenant.lower())


def _environment_matches(entry: Mapping[str, Any], authority: str) -> bool:
    env = str(entry.get("environment") or "").lower()
    if is_microsoft_host(authority):
        return is_microsoft_host(env)
    where = origin(authority)
    # msal records the host name without the port for non-Microsoft authorities.
    return env in {where.netloc, where.host}


def pick_account(
    entries: Iterable[Mapping[str, Any]], authority: str, tenant: str | None, login_hint: str | None
) -> Optional[str]:
    """The home_account_id of a cached account for this authority, tenant and (optional) user.

    Accounts of several tenants coexist in one cache; with several candidates the choice is
    deterministic (lowest username, then id) so two processes agree.
    """
    hint = (login_hint or "").lower()
    candidates = [
        e
        for e in entries
        if e.get("home_account_id")
        and _environment_matches(e, authority)
        and _tenant_matches(e, tenant)
        and (not hint or str(e.get("username") or "").lower() == hint)
    ]
    if not candidates:
        return None
    best = min(candidates, key=lambda e: (str(e.get("username") or ""), str(e["home_account_id"])))
    return str(best["home_account_id"])


def cached_account_entries(options: FlowOptions) -> list[dict[str, Any]]:
    """Account entries of the persisted cache, read without any network request."""
    path = cache_path(options)
    if path is None or not path.exists():
        return []
    from msal import TokenCache

    cache = token_cache(options)
    return [dict(e) for e in cache.search(TokenCache.CredentialType.ACCOUNT)]


def token_from_result(result: Mapping[str, Any] | None, now: float | None = None) -> AccessToken:
    """Turn an MSAL result dict into an AccessToken; an error becomes AuthenticationFailed."""
    if not result:
        raise AuthenticationFailed("no token returned")
    if "access_token" in result:
        issued = time.time() if now is None else now
        return AccessToken(
            token=str(result["access_token"]), expires_on=int(issued + int(result.get("expires_in", 0)))
        )
    error = one_line(result.get("error"), "error")
    description = result.get("error_description")
    raise AuthenticationFailed(f"{error}: {one_line(description)}" if description else error)
