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

from . import __version__

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
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    environ = dict(os.environ)
    if getattr(args, "config", None) is not None:
        from .config.files import ENV_CONFIG

        environ[ENV_CONFIG] = str(args.config)
    if args.command == "explain":
        return explain(args.url, environ, as_json=args.json)
    return check(environ)


def check(environ: dict[str, str]) -> int:
    from .config.files import config_path, read_config
    from .config.resolve import validate

    path = config_path(environ)
    valid = validate(read_config(path))
    if valid.problems:
        for problem in valid.problems:
            print(problem)
        return EXIT_FAILURE
    state = "exists" if valid.raw.exists else "does not exist: defaults apply"
    print(f"{path}: OK ({len(valid.raw.sections)} artifacts sections; {state})")
    return EXIT_OK


def explain(url: str, environ: dict[str, str], *, as_json: bool) -> int:
    report = explain_report(url, environ)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print(_human(report))
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
    return list(value) if isinstance(value, tuple) else value


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
