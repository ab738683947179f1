"""What the backend calls: recognise the service string, try the warm path, else resolve the
settings and run the lookup, then index the answer for the warm path.

Stdlib-only at import time; pydantic (config validation) and the flows' libraries load only
when a URL turns out to be ours and the warm path cannot answer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Optional

from ._log import fingerprint, get_logger, one_line, quiet_libraries
from .config.files import RawConfig, config_path, host_rules, read_config
from .urls import (
    FEED_HOSTS,
    FeedRef,
    could_be_configured,
    host_matches,
    is_url_shaped,
    origin,
    parse_host,
    parse_service,
)
from .urls import name_problem as url_name_problem

if TYPE_CHECKING:
    from pathlib import Path

    from .cache import CachedSecret
    from .config.resolve import Resolution
    from .context import Context
    from .secret import Secret


def recognise(service: str, environ: Mapping[str, str]) -> tuple[Optional[FeedRef], Optional[RawConfig]]:
    """FeedRef for a service string; the config is read only when the host is not a known one."""
    ref = parse_service(service)
    if ref is not None:
        return ref, None
    if not could_be_configured(service):
        return None, None
    raw = read_config(config_path(environ))
    rules = host_rules(raw)
    return (parse_service(service, rules) if rules else None), raw


def name_problem(service: str, environ: Mapping[str, str]) -> Optional[str]:
    """Which name (organization, project, feed, view) makes a URL on one of our hosts not ours,
    and why; None when the URL is ours or its host is not (for explain and doctor)."""
    problem = url_name_problem(service)
    if problem is not None or not could_be_configured(service):
        return problem
    rules = host_rules(read_config(config_path(environ)))
    return url_name_problem(service, rules) if rules else None


def unreadable(service: str, raw: Optional[RawConfig]) -> Optional[str]:
    """Why a URL that is not ours was probably meant to be: the file cannot be parsed and one of
    its section headers names this URL's host, or a near-miss section (`[artifact host=...]`)
    names it. None otherwise. Stdlib only."""
    if raw is None:
        return None
    named = [(h, raw.problems[0]) for h in raw.hosts_mentioned] if raw.problems else []
    named += list(raw.near_miss_hosts)
    if not named:
        return None
    host = origin(service, "https").host
    if not host:
        return None
    for mentioned, message in named:
        try:
            if host_matches(host, parse_host(mentioned)[0]):
                return message
        except ValueError:
            continue
    return None


def url_hint(service: str, ref: Optional[FeedRef], raw: Optional[RawConfig]) -> Optional[str]:
    """A typo or a missing feed in a URL on one of our hosts (see url_hints), else None."""
    from .url_hints import hint

    return hint(service, ref, host_rules(raw) if raw is not None else ())


def _why_none(service: str, raw: Optional[RawConfig]) -> None:
    """One warning line when a URL that is not ours was meant to be: its host is ours, or a file
    that cannot be parsed names it. Anything else stays silent (and cheap)."""
    broken = unreadable(service, raw)
    if broken:
        get_logger().warning("no credential for %s: %s; run azure-artifacts-keyring check", service, broken)
        return
    if not _near_our_hosts(service, raw):
        return  # pypi.org and the like: not even the hints module is loaded
    problem = url_hint(service, None, raw)
    if problem:
        get_logger().warning("no credential: %s", problem)


def _near_our_hosts(service: str, raw: Optional[RawConfig]) -> bool:
    """A cheap test before any hint: a built-in feed host's name is in the URL, or the config
    declares hosts at all."""
    lowered = service.lower()
    return any(host in lowered for host in FEED_HOSTS) or bool(raw is not None and host_rules(raw))


def resolve(service: str, environ: Optional[Mapping[str, str]] = None) -> Optional[Resolution]:
    """Settings for one of our URLs (with any configuration problems), or None when not ours."""
    environ = os.environ if environ is None else environ
    ref, raw = recognise(service, environ)
    return None if ref is None else layer(ref, raw, environ)


def layer(ref: FeedRef, raw: Optional[RawConfig], environ: Mapping[str, str]) -> Resolution:
    """Validate the config (pydantic loads only when something in it is wrong) and layer its
    sections for `ref`."""
    from .config.resolve import resolve as layer_sections
    from .config.resolve import validate

    return layer_sections(validate(raw or read_config(config_path(environ))), ref, environ)


def lookup(
    service: str, username: Optional[str], environ: Optional[Mapping[str, str]] = None
) -> Optional[tuple[str, str]]:
    """(username, secret) for one of our URLs, or None (never raises for a refusal: one line)."""
    from .context import Context
    from .errors import AzureArtifactsError
    from .inputs import Inputs

    environ = os.environ if environ is None else environ
    ref, raw = recognise(service, environ)
    if ref is None:
        if is_url_shaped(service):
            _why_none(service, raw)
        return None
    log = get_logger()
    inputs = Inputs(environ)
    config = config_path(inputs.environ)
    inputs.note_file(config)
    ctx = Context(inputs.environ, inputs=inputs)
    try:
        state = ctx.state_dir()  # checked once: never read or write where others can
    except AzureArtifactsError as exc:
        log.warning("no credential for '%s': %s", ref.org, one_line(exc))
        return None
    warm = _warm(service, config, state, environ)
    if warm is not None:
        log.debug("%s: warm cache hit (%s, %s)", service, warm.kind, fingerprint(warm.secret))
        return username or warm.username, warm.secret
    resolution = layer(ref, raw, inputs.environ)
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
    problem = url_hint(service, ref, raw)
    if problem:
        log.warning("warning: %s", problem)
    if resolution.warnings:
        more = f" (+{len(resolution.warnings) - 1} more)" if len(resolution.warnings) > 1 else ""
        log.warning("warning: %s%s; run azure-artifacts-keyring check", resolution.warnings[0], more)
    log.debug(
        "sections applied (least to most specific): %s", [r.name for r in resolution.sections if r.applies]
    )
    quiet_libraries()
    found = obtain(resolution, ctx, username)
    if found is None:
        return None
    if found.key is not None and ctx.checkpoint is not None:
        try:
            from .warm import write

            write(state, service, config, found.key, ctx.checkpoint)
        except OSError as exc:
            log.debug("warm index not written: %s", exc.__class__.__name__)
    return found.username, found.secret


def obtain(resolution: Resolution, ctx: Context, username: Optional[str] = None) -> Optional[Secret]:
    """The lookup's secret, or None with one warning line naming the org and what to do."""
    from .errors import AzureArtifactsError
    from .lookup import obtain as run
    from .statefs import LockTimeout

    try:
        found = run(resolution, ctx, username)
    except AzureArtifactsError as exc:
        prefix = f"no credential for '{resolution.ref.org}': " if isinstance(exc, LockTimeout) else ""
        get_logger().warning("%s%s", prefix, one_line(exc))
        return None
    return found if found.secret else None


def _warm(service: str, config: Path, state: Path, environ: Mapping[str, str]) -> Optional[CachedSecret]:
    from .warm import read

    try:
        return read(state, service, config, environ)
    except OSError:
        return None


def forget(service: str, environ: Optional[Mapping[str, str]] = None) -> bool:
    """Forget cached secrets for a service (revoking PATs we created); True when anything went."""
    from .context import Context
    from .lookup import forget as forget_feed

    environ = os.environ if environ is None else environ
    resolution = resolve(service, environ)
    if resolution is None:
        return False
    return forget_feed(resolution, Context(environ))
