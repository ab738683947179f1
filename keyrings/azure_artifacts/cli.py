"""`azure-artifacts-keyring`: explain, check (and the credential commands as they land).

argparse keeps startup light; every command prints to stdout, errors to stderr, and
no command ever prints a secret.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from . import __version__, tool_setup
from ._log import one_line

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="azure-artifacts-keyring",
        description="Credentials for Azure Artifacts feeds through keyring: inspect and manage them.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    explain = commands.add_parser("explain", help="show how a URL is matched and which settings apply")
    explain.add_argument("url")
    explain.add_argument("--json", action="store_true", help="one JSON object (SPEC §6)")
    explain.add_argument("--config", type=Path, help="config file (default: keyring's keyringrc.cfg)")

    check = commands.add_parser("check", help="validate the configuration file")
    check.add_argument("--config", type=Path, help="config file (default: keyring's keyringrc.cfg)")
    _credential_commands(commands)
    tool_setup.add_parser(commands)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _run(parser, args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line, never a traceback, never a secret
        print(f"azure-artifacts-keyring: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .config.files import ENV_CONFIG

    environ = dict(os.environ)
    explicit = bool(environ.get(ENV_CONFIG, "").strip())
    if getattr(args, "config", None) is not None:
        environ[ENV_CONFIG] = str(args.config)
        explicit = True
    if args.command == "explain":
        return explain(args.url, environ, as_json=args.json)
    if args.command == "setup":
        return tool_setup.run(args, environ)
    if args.command in ("login", "logout", "status"):
        return _run_credential_command(parser, args, environ)
    return check(environ, explicit=explicit)


def check(environ: dict[str, str], explicit: bool = False) -> int:
    from .config.files import config_path, read_config
    from .config.resolve import env_options, validate

    path = config_path(environ)
    valid = validate(read_config(path))
    if explicit and not valid.raw.exists:
        print(f"{path}: [-] file: does not exist", file=sys.stderr)
        return EXIT_FAILURE
    # A bad compatibility variable blocks every lookup, whose message sends the user here.
    problems = list(valid.problems) + env_options(environ)[1]
    if problems:
        for problem in problems:
            print(problem)
        return EXIT_FAILURE
    state = "exists" if valid.raw.exists else "does not exist: defaults apply"
    print(f"{path}: OK ({len(valid.raw.sections)} artifacts sections; {state})")
    return EXIT_OK


def explain(url: str, environ: dict[str, str], *, as_json: bool) -> int:
    report = explain_report(url, environ)
    if as_json:
        print(json.dumps(report, indent=2))
        return EXIT_FAILURE if report["config"]["errors"] else EXIT_OK
    text = _human(report)
    if report["ours"] and not report["config"]["errors"]:
        from . import service

        resolution = service.resolve(url, environ)
        if resolution is not None:
            text += "\nTenant    " + service.describe_discovery(resolution, environ)
    print(text)
    return EXIT_FAILURE if report["config"]["errors"] else EXIT_OK


def explain_report(url: str, environ: dict[str, str]) -> dict[str, Any]:
    """The SPEC §6 `explain --json` object; nothing secret in it, ever."""
    from . import service
    from .config.files import config_path, read_config
    from .config.resolve import validate

    path = config_path(environ)
    resolution = service.resolve(url, environ)
    if resolution is None:
        valid = validate(read_config(path))
        return {
            "url": _url_fields(url, None),
            "ours": False,
            "config": {"path": str(path), "exists": valid.raw.exists, "errors": list(valid.problems)},
            "sections": [],
            "settings": {},
            "chain": [],
            "cache": {"kind": None, "expires_at": None},
        }
    settings = resolution.settings
    return {
        "url": _url_fields(url, resolution.ref),
        "ours": True,
        "config": {"path": str(path), "exists": resolution.config.exists, "errors": list(resolution.errors)},
        "sections": [
            {"name": s.name, "applies": s.applies, "weight": s.weight, "reason": s.reason}
            for s in resolution.sections
        ],
        "settings": {
            name: {"value": _jsonable(value), "from": settings.sources[name]}
            for name, value in settings.values.items()
        },
        "chain": service.describe_chain(resolution, environ),
        "cache": service.describe_cache(resolution, environ),
    }


def _url_fields(url: str, ref: Any) -> dict[str, Any]:
    if ref is None:
        return {
            "service": url,
            "host": None,
            "org": None,
            "project": None,
            "feed": None,
            "view": None,
            "upload": None,
        }
    return {
        "service": url,
        "host": ref.netloc,
        "org": ref.org,
        "project": ref.project,
        "feed": ref.feed,
        "view": ref.view,
        "upload": ref.upload,
    }


def _shown(name: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(value)
    if name.endswith(("_duration", "_before")):
        return _duration_text(int(value))
    return str(value)


def _duration_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _jsonable(value: Any) -> Any:
    """Tuples as lists; whole seconds as integers (SPEC §6), so `timeout = 20` is 20, not 20.0."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _human(report: dict[str, Any]) -> str:
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
    for error in config["errors"]:
        lines.append(f"  error   {error}")
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
            if name in ("path_prefix", "allow_http") and item["from"] == "default":
                continue  # only meaningful for hosts declared by a host section
            shown = _shown(name, item["value"])
            source = item["from"]
            source = source if source == "default" or source.startswith("env:") else f"[{source}]"
            lines.append(f"  {name:<18}{shown:<44}{source}")
    if report["ours"]:
        lines.append("Chain     " + (" -> ".join(report["chain"]) or "-"))
        cache = report["cache"]
        cached = f"{cache['kind']}, expires {cache['expires_at']}" if cache["kind"] else "nothing cached"
        lines.append(f"Cache     {cached}")
    return "\n".join(lines)


# -- login / logout / status ----------------------------------------------------------------


def _credential_commands(commands: Any) -> None:
    login = commands.add_parser("login", help="obtain and cache a credential for a feed now")
    login.add_argument("url")
    login.add_argument("--config", type=Path, help="config file (default: keyring's keyringrc.cfg)")

    logout = commands.add_parser("logout", help="forget cached credentials (and revoke our PATs)")
    logout.add_argument("url", nargs="?", help="a feed URL: forget what is cached for that feed")
    logout.add_argument("--all", action="store_true", help="forget every cached credential")
    logout.add_argument("--revoke", action="store_true", help="also revoke the PATs we created")
    logout.add_argument("--config", type=Path, help="config file (default: keyring's keyringrc.cfg)")

    status = commands.add_parser("status", help="list cached credentials (never their secrets)")
    status.add_argument("--json", action="store_true", help="one JSON object (SPEC §6)")


def _run_credential_command(
    parser: argparse.ArgumentParser, args: argparse.Namespace, environ: dict[str, str]
) -> int:
    from .errors import AzureArtifactsError

    try:
        if args.command == "login":
            return login(args.url, environ)
        if args.command == "logout":
            if bool(args.url) == bool(args.all):
                parser.error("logout needs a feed URL or --all (not both)")
            return logout(args.url, environ, revoke=args.revoke)
        return status(environ, as_json=args.json)
    except AzureArtifactsError as exc:
        print(f"azure-artifacts-keyring: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE


def _resolved_for_command(url: str, environ: dict[str, str]) -> Any:
    """The resolution for one of our URLs with `interactive = always`, unless the config says never:
    a person asked for this, so signing in may prompt."""
    import dataclasses

    from . import service
    from .config.resolve import Settings
    from .errors import AzureArtifactsError, ConfigError

    resolution = service.resolve(url, environ)
    if resolution is None:
        raise AzureArtifactsError(
            f"{url} is not an Azure Artifacts feed URL (azure-artifacts-keyring explain URL)"
        )
    if resolution.errors:
        raise ConfigError(list(resolution.errors))
    settings = resolution.settings
    if settings.interactive != "never":
        values = {**settings.values, "interactive": "always"}
        sources = {**settings.sources, "interactive": "command line"}
        resolution = dataclasses.replace(resolution, settings=Settings(values, sources))
    return resolution


def login(url: str, environ: dict[str, str]) -> int:
    from .provider import TokenProvider

    resolution = _resolved_for_command(url, environ)
    tokens = TokenProvider(environ)
    if not tokens.secret(resolution):
        print(f"azure-artifacts-keyring: no credential for {url}", file=sys.stderr)
        return EXIT_FAILURE
    ref = resolution.ref
    where = "/".join(p for p in (ref.org, ref.project, ref.feed) if p)
    mine = [c for c in credentials(environ) if _describes(c, ref)]
    if mine:
        best = max(mine, key=lambda c: c["expires_at"] or "")
        scopes = " ".join(best["scopes"]) or "-"
        print(f"logged in to {where}: {best['kind']} ({scopes}), expires {best['expires_at']}")
    else:
        print(f"logged in to {where}: a configured credential is used as it is (nothing cached)")
    return EXIT_OK


def logout(url: Optional[str], environ: dict[str, str], *, revoke: bool) -> int:
    from .provider import TokenProvider

    tokens = TokenProvider(environ)
    if url:
        resolution = _resolved_for_command(url, environ)
        forgotten = tokens.forget(resolution, revoke=revoke)
        print(
            f"{url}: "
            + ("forgotten" + (" (our PATs revoked)" if revoke else "") if forgotten else "nothing cached")
        )
        return EXIT_OK
    return _logout_all(tokens, environ, revoke=revoke)


def _logout_all(tokens: Any, environ: dict[str, str], *, revoke: bool) -> int:
    """Every secret-cache entry and the sign-in cache go; each stored PAT through its feed's
    settings (to revoke it). Tenant discovery is kept: it is no credential."""
    from .credentials.msal_user import forget_sign_ins
    from .errors import AzureArtifactsError

    tokens.secret_cache().clear()
    forget_sign_ins(tokens.state_dir())
    store = tokens.pat_store()
    failed = 0
    for service_url in sorted({pat.service for _key, pat in store.entries()}):
        try:
            resolution = _resolved_for_command(service_url, environ)
            tokens.forget_pats(resolution, revoke)
        except AzureArtifactsError as exc:
            if revoke:
                failed += 1
                print(f"azure-artifacts-keyring: {service_url}: {one_line(exc)}", file=sys.stderr)
                continue
            for key, pat in store.entries():  # settings no longer resolve: forget by record
                if pat.service == service_url:
                    store.delete(key)
    if failed:
        print(f"{failed} feed(s) kept their PATs: they could not be revoked")
        return EXIT_FAILURE
    print("forgot every cached credential and sign-in" + (" and revoked our PATs" if revoke else ""))
    return EXIT_OK


def credentials(environ: dict[str, str]) -> list[dict[str, Any]]:
    """The SPEC §6 `status` items: every cached secret and stored PAT, described without the secret."""
    from .pats import iso_utc
    from .provider import TokenProvider

    tokens = TokenProvider(environ)
    items = [
        {
            "org": entry.org,
            "project": entry.project,
            "feed": entry.feed,
            "kind": entry.kind,
            "scopes": list(entry.scopes),
            "username": entry.username,
            "expires_at": iso_utc(entry.expires_at),
        }
        for _key, entry in tokens.secret_cache().entries()
    ]
    items += [
        {
            "org": pat.org,
            "project": pat.project,
            "feed": pat.feed,
            "kind": "pat",
            "scopes": list(pat.scopes),
            "username": pat.username,
            "expires_at": iso_utc(pat.expires_at),
        }
        for _key, pat in tokens.pat_store().entries()
    ]
    return sorted(items, key=lambda c: (c["org"].lower(), c["project"] or "", c["feed"] or "", c["kind"]))


def _describes(item: dict[str, Any], ref: Any) -> bool:
    if item["org"].lower() != ref.org.lower():
        return False
    return not (ref.feed and item["feed"] and item["feed"].lower() != ref.feed.lower())


def status(environ: dict[str, str], *, as_json: bool) -> int:
    items = credentials(environ)
    if as_json:
        print(json.dumps({"credentials": items}, indent=2))
        return EXIT_OK
    if not items:
        print("no cached credentials")
        return EXIT_OK
    rows = [("org", "project", "feed", "kind", "scopes", "username", "expires (UTC)")]
    rows += [
        (
            c["org"],
            c["project"] or "-",
            c["feed"] or "-",
            c["kind"],
            " ".join(c["scopes"]) or "-",
            c["username"],
            c["expires_at"],
        )
        for c in items
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
