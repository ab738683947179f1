"""What the backend calls: recognise the service string, try the warm path, else resolve the
settings and run the lookup, then index the answer for the warm path.

Stdlib-only at import time; pydantic (config validation) and the flows' libraries load only
when a URL turns out to be ours and the warm path cannot answer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Optional

from . import urls
from ._log import fingerprint, get_logger, one_line, quiet_libraries
from .config.files import RawConfig, config_path, host_rules, read_config

if TYPE_CHECKING:
    from pathlib import Path

    from .cache import CachedSecret
    from .config.resolve import Resolution
    from .context import Context
    from .secret import Secret


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


def name_problem(service: str, environ: Mapping[str, str]) -> Optional[str]:
    """Which name (organization, project, feed, view) makes a URL on one of our hosts not ours,
    and why; None when the URL is ours or its host is not (for explain and doctor)."""
    problem = urls.name_problem(service)
    if problem is not None or not urls.could_be_configured(service):
        return problem
    rules = host_rules(read_config(config_path(environ)))
    return urls.name_problem(service, rules) if rules else None


def resolve(service: str, environ: Optional[Mapping[str, str]] = None) -> Optional[Resolution]:
    """Settings for one of our URLs (with any configuration problems), or None when not ours."""
    environ = os.environ if environ is None else environ
    ref, raw = recognise(service, environ)
    return None if ref is None else layer(ref, raw, environ)


def layer(ref: urls.FeedRef, raw: Optional[RawConfig], environ: Mapping[str, str]) -> Resolution:
    """Validate the config (pydantic loads only when something in it is wrong) and layer its
    sections for `ref`."""
    from .config.resolve import resolve as layer_sections
    from .config.resolve import validate

    return layer_sections(validate(raw or read_config(config_path(environ))), ref, environ)


def lookup(
    service: str, username: Optional[str], environ: Optional[Mapping[str, str]] = None
) -> Optional[tuple[str, str]]:
    """(username, secret) for one of our URLs, or None (never raises for a refusal: one line)."""
    from .cache import state_dir
    from .context import Context
    from .errors import AzureArtifactsError
    from .inputs import Inputs
    from .statefs import check_trusted

    environ = os.environ if environ is None else environ
    ref, raw = recognise(service, environ)
    if ref is None:
        return None
    log = get_logger()
    inputs = Inputs(environ)
    config = config_path(inputs.environ)
    state = state_dir(inputs.environ)
    inputs.note_file(config)
    try:
        check_trusted(state)
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
    log.debug(
        "sections applied (least to most specific): %s", [r.name for r in resolution.sections if r.applies]
    )
    quiet_libraries()
    ctx = Context(inputs.environ, inputs=inputs)
    found = obtain(resolution, ctx, username)
    if found is None:
        return None
    if found.key is not None and ctx.checkpoint is not None:
        try:
            from . import warm as warm_index

            warm_index.write(state, service, config, found.key, ctx.checkpoint)
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
    from . import warm

    try:
        return warm.read(state, service, config, environ)
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
