"""resolve(service) -> settings -> credential: the one place that wires config, flows and caches.

Stdlib-only at import time; pydantic (config validation) and the flows' libraries
load only when a URL turns out to be ours.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Optional, Protocol

from . import urls
from ._log import fingerprint, get_logger, quiet_libraries
from .config.files import RawConfig, config_path, host_rules, read_config

if TYPE_CHECKING:
    from .cache import CachedSecret
    from .config.resolve import Resolution


class SecretProvider(Protocol):
    """Turns resolved settings into (username, secret); the token issue fills this in."""

    def provide(self, resolution: Resolution, username: Optional[str]) -> Optional[tuple[str, str]]: ...

    def forget(self, resolution: Resolution) -> bool: ...

    def cache_key(self, resolution: Resolution) -> str: ...


def recognise(service: str, environ: Mapping[str, str]) -> tuple[Optional[urls.FeedRef], Optional[RawConfig]]:
    """FeedRef for a service string; the config is read only when the host is not a known one."""
    ref = urls.parse_service(service)
    if ref is not None:
        return ref, None
    if not urls.could_be_configured(service):
        return None, None
    raw = read_config(config_path(environ))
    rules = host_rules(raw)
    return (urls.parse_service(service, rules) if rules else None), raw


def resolve(service: str, environ: Optional[Mapping[str, str]] = None) -> Optional[Resolution]:
    """Settings for one of our URLs (with any configuration problems), or None when not ours."""
    environ = os.environ if environ is None else environ
    ref, raw = recognise(service, environ)
    return None if ref is None else _layer(ref, raw, environ)


def _layer(ref: urls.FeedRef, raw: Optional[RawConfig], environ: Mapping[str, str]) -> Resolution:
    """Validate the config (pydantic loads here) and layer its sections for `ref`."""
    from .config.resolve import resolve as layer
    from .config.resolve import validate

    return layer(validate(raw or read_config(config_path(environ))), ref, environ)


def lookup(
    service: str, username: Optional[str], environ: Optional[Mapping[str, str]] = None
) -> Optional[tuple[str, str]]:
    """(username, secret) for one of our URLs, or None."""
    environ = os.environ if environ is None else environ
    ref, raw = recognise(service, environ)
    if ref is None:
        return None
    log = get_logger()
    print_ = _fingerprint(service, environ)
    warm = _warm(print_, environ)
    if warm is not None:
        log.debug("%s: warm cache hit (%s, %s)", service, warm.kind, fingerprint(warm.secret))
        return username or warm.username, warm.secret
    resolution = _layer(ref, raw, environ)
    log.debug(
        "%s: org=%s project=%s feed=%s upload=%s", ref.service, ref.org, ref.project, ref.feed, ref.upload
    )
    if resolution.errors:
        # One line: pip and uv show our stderr to users, a wall of config errors helps nobody there.
        more = f" (+{len(resolution.errors) - 1} more)" if len(resolution.errors) > 1 else ""
        log.warning(
            "no credential for '%s': %s%s; run azure-artifacts-keyring check",
            ref.org,
            resolution.errors[0],
            more,
        )
        return None
    applied = [r.name for r in resolution.sections if r.applies]
    log.debug("sections applied (least to most specific): %s", applied or "none")
    quiet_libraries()
    tokens = provider(environ)
    found = tokens.provide(resolution, username)
    if found is not None:
        _remember(print_, environ, tokens, resolution, found[1])
    return found


def _fingerprint(service: str, environ: Mapping[str, str]) -> str:
    from . import fastpath

    return fastpath.fingerprint(service, config_path(environ), environ)


def _warm(print_: str, environ: Mapping[str, str]) -> Optional[CachedSecret]:
    from . import fastpath
    from .cache import state_dir

    try:
        return fastpath.read(state_dir(environ), print_)
    except OSError:
        return None


def _remember(
    print_: str, environ: Mapping[str, str], tokens: SecretProvider, resolution: Resolution, secret: str
) -> None:
    """Index the secret-cache entry this lookup used, so the next one takes the warm path."""
    from . import fastpath
    from .cache import CachedSecret, read_json, state_dir

    key = tokens.cache_key(resolution)
    state = state_dir(environ)
    entry = CachedSecret.from_json(read_json(state / "secrets" / f"{key}.json"))
    if entry is None or entry.secret != secret:
        return  # a pass-through secret (static, pipelines) or a PAT kept elsewhere
    try:
        fastpath.write(state, print_, key)
    except OSError as exc:
        get_logger().debug("warm index not written: %s", exc.__class__.__name__)


def forget(service: str, environ: Optional[Mapping[str, str]] = None) -> bool:
    """Forget cached secrets for a service; True when anything was forgotten."""
    resolution = resolve(service, environ)
    if resolution is None:
        return False
    return provider(environ).forget(resolution)


_providers: dict[int, SecretProvider] = {}


def provider(environ: Optional[Mapping[str, str]] = None) -> SecretProvider:
    """One provider per process (it keeps HTTP connections and memos warm)."""
    environ = os.environ if environ is None else environ
    found = _providers.get(id(environ))
    if found is None:
        from .provider import TokenProvider

        found = _providers[id(environ)] = TokenProvider(environ)
    return found


def describe_chain(resolution: Resolution, environ: Mapping[str, str]) -> list[str]:
    """The credential names that would be tried, in order, without running any of them."""
    from .provider import TokenProvider

    tokens = TokenProvider(environ)
    settings = resolution.settings
    options = tokens.flow_options(resolution, tenant=settings.tenant, authority_host=settings.authority_host)
    return tokens.chain_names(settings, options)


def describe_discovery(resolution: Resolution, environ: Mapping[str, str]) -> str:
    """Where the tenant and token service come from for `explain` (no request is made)."""
    from .provider import TokenProvider

    return TokenProvider(environ).describe_discovery(resolution)


def describe_cache(resolution: Resolution, environ: Mapping[str, str]) -> dict[str, Optional[str]]:
    """Kind and expiry of what is cached for these settings (never the secret)."""
    from .provider import TokenProvider

    return TokenProvider(environ).describe_cache(resolution)
