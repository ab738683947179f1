"""`explain`: how a URL is read, which sections apply, every resolved option with its source,
the credential chain and what is cached. Nothing is run and no request is sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from .config.resolve import Resolution
    from .context import Context
    from .urls import FeedRef

_NO_URL = dict.fromkeys(("host", "org", "project", "feed", "view", "upload"))


@dataclass(frozen=True)
class Explanation:
    """`explain`: the JSON report, plus lines only the human form shows."""

    report: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def url_fields(url: str, ref: Optional[FeedRef]) -> dict[str, Any]:
    if ref is None:
        return {"service": url, **_NO_URL}
    return {
        "service": url,
        "host": ref.netloc,
        "org": ref.org,
        "project": ref.project,
        "feed": ref.feed,
        "view": ref.view,
        "upload": ref.upload,
    }


def jsonable(value: Any) -> Any:
    """Tuples as lists; whole seconds as integers, so `timeout = 20` is 20, not 20.0."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def explain(url: str, environ: Mapping[str, str], ctx: Context) -> Explanation:
    from . import service
    from .config.files import config_path, read_config
    from .config.resolve import validate

    path = config_path(environ)
    ref, raw = service.recognise(url, environ)
    problem = service.url_hint(url, ref, raw)
    hints = [problem] if problem else []
    resolution = None if ref is None else service.layer(ref, raw, environ)
    if resolution is None:
        valid = validate(read_config(path))
        invalid = service.name_problem(url, environ)
        return Explanation(
            {
                "url": url_fields(url, None),
                "ours": False,
                "config": {"path": str(path), "exists": valid.raw.exists, "errors": list(valid.problems)},
                "sections": [],
                "settings": {},
                "chain": [],
                "cache": {"kind": None, "expires_at": None, "identity": None},
            },
            [f"Problem   {h}" for h in ([invalid] if invalid else hints)],
        )
    settings = resolution.settings
    report = {
        "url": url_fields(url, resolution.ref),
        "ours": True,
        "config": {
            "path": str(path),
            "exists": resolution.config.exists,
            "errors": list(resolution.errors),
        },
        "sections": [
            {"name": s.name, "applies": s.applies, "weight": s.weight, "reason": s.reason}
            for s in resolution.sections
        ],
        "settings": {
            name: {"value": jsonable(value), "from": settings.source(name)}
            for name, value in settings.items()
        },
        "chain": chain(resolution, ctx),
        "cache": cache_state(resolution, ctx),
    }
    notes = [f"Problem   {h}" for h in hints]
    if not resolution.errors:
        notes += [f"Tenant    {tenant(resolution, ctx)}", *warnings(resolution, ctx)]
    return Explanation(report, notes)


def rule_problems(resolution: Resolution, environ: Mapping[str, str]) -> list[str]:
    """The configuration rules this URL's layered settings break (the same findings `check`
    reports for the scope this URL is in)."""
    from .config.resolve import validate
    from .config.rules import findings

    applied = {s.name for s in resolution.sections if s.applies}
    found = findings(validate(resolution.config), environ)
    return [f.message for f in found if f.problem and f.concerns(applied)]


def warnings(resolution: Resolution, ctx: Context) -> list[str]:
    """What will not work, or will work differently than written, for these settings."""
    from .config.settings import entra_less, session_capped
    from .credentials.registry import flow_class

    settings = resolution.settings
    notes = [f"Problem   {message}" for message in rule_problems(resolution, ctx.environ)]
    notes += [f"Warning   {message}" for message in resolution.warnings]
    capped = session_capped(settings.auth, settings.session_duration)
    if capped:
        notes.append(f"Note      {capped}")
    if entra_less(resolution.ref, settings):
        notes.append(
            "Note      no host section for this host sets tenant or authority_host: no Entra token is "
            "sent, a PAT is used"
        )
    if settings.auth == "session" and any(
        flow_class(name).service_identity for name in chain(resolution, ctx)
    ):
        from ._text import iso_utc
        from .modes.session import remembered

        ref = resolution.ref
        refused = remembered(ctx.state_dir(), ctx.now, ref.netloc, ref.org)
        for kind, why, until in refused:
            notes.append(
                f"Exchange  {kind}: its Entra token is the password (bearer) until {iso_utc(until)}, "
                f"because the session-token exchange was refused: {why}"
            )
        if not refused:
            notes.append(
                "Note      a service identity whose session-token exchange is refused hands over its "
                "Entra token (bearer) instead, and keeps doing so for a day"
            )
    return notes


def chain(resolution: Resolution, ctx: Context) -> list[str]:
    from .signin import SignIn

    return SignIn(resolution, ctx).chain()


def tenant(resolution: Resolution, ctx: Context) -> str:
    """Where the tenant and token service come from."""
    from .credentials.registry import HANDS_OVER
    from .discovery import describe_authority

    names = chain(resolution, ctx)
    if names and all(name in HANDS_OVER for name in names):
        return "not needed: a static or Azure Pipelines credential is handed over as it is"
    settings, ref = resolution.settings, resolution.ref
    source = settings.source("tenant") if settings.tenant else None
    return describe_authority(ref.netloc, ref.org, source, ctx.state_dir())


def cache_state(resolution: Resolution, ctx: Context) -> dict[str, Any]:
    """Kind and expiry of what a lookup would reuse (a stored PAT for `auth = pat`)."""
    from ._text import iso_utc
    from .modes import mode_for
    from .signin import SignIn

    found = mode_for(resolution.settings.auth).peek(SignIn(resolution, ctx))
    if found is None:
        return {"kind": None, "expires_at": None, "identity": None}
    return {"kind": found.kind, "expires_at": iso_utc(found.expires_at), "identity": found.identity or None}


def human(report: dict[str, Any], notes: list[str]) -> str:
    """The report as aligned text, for a person."""
    from ._text import duration_text
    from .config.table import DURATION_OPTIONS, HOST_ONLY_OPTIONS

    url, config = report["url"], report["config"]
    lines = [f"URL       {url['service']}"]
    if not report["ours"]:
        lines.append("          not an Azure Artifacts feed URL: this backend returns nothing for it")
    else:
        parts = [f"{k} {url[k] or '-'}" for k in ("host", "org", "project", "feed", "view")]
        parts.append("upload yes" if url["upload"] else "upload no")
        lines.append("          " + "  ".join(parts))
    exists = "exists" if config["exists"] else "not found: defaults apply"
    lines.append(f"Config    {config['path']} ({exists})")
    lines += [f"  error   {error}" for error in config["errors"]]
    if report["sections"]:
        lines.append("Sections  (the most specific applicable section wins, option by option)")
        width = max(len(s["name"]) for s in report["sections"]) + 4
        lines.append(f"  {'applies':<8}{'weight':<8}{'section':<{width}}why")
        for s in report["sections"]:
            applies = "yes" if s["applies"] else "no"
            lines.append(f"  {applies:<8}{s['weight']:<8}{'[' + s['name'] + ']':<{width}}{s['reason']}")
    elif report["ours"]:
        lines.append("Sections  none: built-in defaults apply")
    if report["settings"]:
        lines.append("Settings")
        for name, item in report["settings"].items():
            if name in HOST_ONLY_OPTIONS and item["from"] == "default":
                continue  # only meaningful for hosts declared by a host section
            value = item["value"]
            if value is None:
                shown = "-"
            elif isinstance(value, list):
                shown = ", ".join(value)
            elif name in DURATION_OPTIONS:
                shown = duration_text(int(value))
            else:
                shown = str(value)
            source = item["from"]
            source = source if source == "default" or source.startswith("env:") else f"[{source}]"
            lines.append(f"  {name:<18}{shown:<44}{source}")
    if report["ours"]:
        lines.append("Chain     " + (" -> ".join(report["chain"]) or "-"))
        cache = report["cache"]
        cached = f"{cache['kind']}, expires {cache['expires_at']}" if cache["kind"] else "nothing cached"
        if cache.get("identity"):
            from .claims import describe

            cached += (
                f", issued to {describe(cache['identity'])} (tenant {cache['identity'].get('tid', '-')})"
            )
        lines.append(f"Cache     {cached}")
    return "\n".join(lines + notes)
