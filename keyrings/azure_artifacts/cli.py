"""`azure-artifacts-keyring`: the command line over the application API (`app.App`).

This module parses arguments and prints; every decision is made in `app`. argparse keeps
startup light. Output goes to stdout, errors to stderr as one line, and only `token` ever
prints a secret.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from . import __version__
from ._log import one_line

if TYPE_CHECKING:
    from .app import App

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
_CONFIG_HELP = "config file (default: keyring's keyringrc.cfg)"
_JSON_HELP = "print one JSON object instead of text"


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written; option help wrapped, never inside a URL or at a hyphen."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        import re
        import textwrap

        flat = re.sub(r"\s+", " ", text).strip()
        return textwrap.wrap(flat, width, break_long_words=False, break_on_hyphens=False)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="azure-artifacts-keyring",
        description="Credentials for Azure Artifacts feeds through keyring: inspect and manage them.",
        epilog="When a tool gets a 401 or 403 from a feed, start with `azure-artifacts-keyring doctor URL`.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    def command(name: str, help_text: str, *, url: str = "", json_help: str = "", config: bool = True) -> Any:
        # json_help names the object's fields in the description; the option reads the same everywhere.
        description = f"{help_text}. --json prints {json_help}." if json_help.startswith("{") else help_text
        sub = commands.add_parser(name, help=help_text, description=description, formatter_class=_Formatter)
        if url:
            sub.add_argument("url", nargs="?" if url == "?" else None, help="a feed URL")
        if json_help:
            sub.add_argument("--json", action="store_true", help=_JSON_HELP)
        if config:
            sub.add_argument("--config", type=Path, help=_CONFIG_HELP)
        return sub

    command(
        "explain", "show how a URL is matched and which settings apply", url="1", json_help="one JSON object"
    )
    command("check", "validate the configuration file")
    command(
        "doctor",
        "check a feed URL live, step by step (the URL, keyring, the config, the tenant, each credential "
        "flow, the exchange, the feed itself): what fails and how to fix it; exit 1 when a step failed",
        url="1",
        json_help='{"steps": [{"name", "status", "seconds", "detail", "fix"}]}',
    )
    login = command("login", "obtain and cache a credential for a feed now (may sign you in)", url="1")
    login.add_argument("--account", metavar="USER", help="sign in as this user (user@example.com)")
    login.add_argument(
        "--force", action="store_true", help="sign in again instead of reusing the cached sign-in"
    )
    logout = command("logout", "forget cached credentials (and revoke our PATs)", url="?")
    logout.add_argument("--all", action="store_true", help="forget every cached credential and sign-in")
    logout.add_argument("--revoke", action="store_true", help="also revoke the PATs we created")
    command(
        "status", "list cached credentials (never their secrets)", json_help="one JSON object", config=False
    )
    command(
        "token",
        "print the secret for a feed on stdout (for scripts and container builds)",
        url="1",
        json_help='{"username", "secret", "kind", "expires_at"}',
    )
    _setup_parser(commands)
    return parser


def _setup_parser(commands: Any) -> None:
    from .tool_setup import DESCRIPTION, TOOLS

    setup = commands.add_parser(
        "setup",
        help="write a tool's configuration for a feed (pip, uv, poetry, pdm, hatch, twine)",
        description=DESCRIPTION,
        formatter_class=_Formatter,
    )
    setup.add_argument(
        "url", help="the feed's URL, e.g. https://pkgs.dev.azure.com/ORG/_packaging/FEED/pypi/simple/"
    )
    setup.add_argument("--tool", required=True, choices=TOOLS, help="the tool to configure")
    setup.add_argument("--primary", action="store_true", help="the feed replaces PyPI instead of joining it")
    setup.add_argument(
        "--dry-run", action="store_true", help="print the changes as a unified diff, write nothing"
    )
    setup.add_argument(
        "--tenant", metavar="T", help='also pin tenant T in [artifacts org="..."] of keyringrc.cfg'
    )
    setup.add_argument(
        "--site", action="store_true", help="pip: the environment's pip.conf instead of the user's"
    )
    setup.add_argument("--name", help="index / source / repository name (default: ORG-FEED)")
    setup.add_argument("--file", type=Path, help="pip, uv, twine: the file to edit instead of the usual one")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code = _run(parser, args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # `explain URL | head -1`: the reader has gone; say nothing. stdout goes to devnull so the
        # interpreter's final flush does not complain either (Python docs, "Note on SIGPIPE").
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line, never a traceback, never a secret
        print(f"azure-artifacts-keyring: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .app import App
    from .config.files import ENV_CONFIG

    environ = dict(os.environ)
    explicit = bool(environ.get(ENV_CONFIG, "").strip())
    if getattr(args, "config", None) is not None:
        environ[ENV_CONFIG] = str(args.config)
        explicit = True
    app = App(environ)
    if args.command == "explain":
        return explain(app, args.url, as_json=args.json)
    if args.command == "check":
        return check(app, explicit=explicit)
    if args.command == "doctor":
        return doctor(app, args.url, as_json=args.json)
    if args.command == "setup":
        return _setup(app, args)
    if args.command == "logout" and bool(args.url) == bool(args.all):
        parser.error("logout needs a feed URL or --all (not both)")
    return _CREDENTIAL_COMMANDS[args.command](app, args)


def check(app: App, *, explicit: bool) -> int:
    result = app.check()
    if explicit and not result.exists:
        print(f"{result.path}: [-] file: does not exist", file=sys.stderr)
        return EXIT_FAILURE
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.problems:
        for problem in result.problems:
            print(problem)
        return EXIT_FAILURE
    state = "exists" if result.exists else "does not exist: defaults apply"
    sections = f"{result.sections} artifacts section" + ("" if result.sections == 1 else "s")
    print(f"{result.path}: OK ({sections}; {state})")
    return EXIT_OK


def explain(app: App, url: str, *, as_json: bool) -> int:
    from .explain import human

    explanation = app.explain(url)
    report = explanation.report
    print(json.dumps(report, indent=2) if as_json else human(report, explanation.notes))
    return EXIT_FAILURE if report["config"]["errors"] else EXIT_OK


def doctor(app: App, url: str, *, as_json: bool) -> int:
    import dataclasses

    steps = app.doctor(url)
    if as_json:
        print(json.dumps({"steps": [dataclasses.asdict(step) for step in steps]}, indent=2))
    else:
        width = max(len(step.name) for step in steps)
        for step in steps:
            fix = f"; fix: {step.fix}" if step.fix else ""
            print(f"{step.status:<8}{step.name:<{width}}  {step.seconds:5.2f} s  {step.detail}{fix}")
    return EXIT_FAILURE if any(step.status == "failed" for step in steps) else EXIT_OK


def _warn_url(app: App, url: str) -> None:
    problem = app.url_hint(url)
    if problem:
        print(f"azure-artifacts-keyring: warning: {problem}", file=sys.stderr)


def _login(app: App, args: argparse.Namespace) -> int:
    _warn_url(app, args.url)
    done = app.login(args.url, account=args.account, force=args.force)
    secret = done.secret
    ref = app.resolution(args.url).ref
    where = "/".join(p for p in (ref.org, ref.project, ref.feed) if p)
    if secret.expires_at is None:
        print(f"logged in to {where}: a configured credential is used as it is (nothing cached)")
        return EXIT_OK
    from ._text import iso_utc

    scopes = " ".join(secret.scopes) or "-"
    print(f"logged in to {where}: {secret.kind} ({scopes}), expires {iso_utc(secret.expires_at)}")
    if done.who:
        print(f"signed in as {done.who} ({done.flow})")
        if args.account and args.account.lower() != done.who.lower():
            print(f"note: you asked for {args.account}; the sign-in was for {done.who}", file=sys.stderr)
    else:
        print("no sign-in was needed: the cached credential is still valid (--force signs in again)")
    return EXIT_OK


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _logout(app: App, args: argparse.Namespace) -> int:
    gone = app.logout(args.url, revoke=args.revoke)
    pats = ""
    if gone.pats:
        pats = f" and {_plural(gone.pats, 'stored PAT')}" + (
            " (revoked)" if args.revoke else " (not revoked: --revoke)"
        )
    if not args.url:
        print(f"forgot {_plural(gone.secrets, 'cached credential')}{pats} and every sign-in")
    elif gone.secrets or gone.pats:
        print(f"{args.url}: forgot {_plural(gone.secrets, 'cached credential')}{pats}; kept the sign-in "
              "(logout --all forgets it)")  # fmt: skip
    else:
        print(f"{args.url}: nothing cached; kept the sign-in (logout --all forgets it)")
    return EXIT_OK


def _status(app: App, args: argparse.Namespace) -> int:
    items = app.status()
    if args.json:
        print(json.dumps({"credentials": items}, indent=2))
        return EXIT_OK
    accounts = app.accounts()
    for account in accounts:
        print(
            f"signed in: {account['username'] or '-'} at {account['authority']} (tenant {account['tenant'] or '-'})"
        )
    if not items:
        print("no cached credentials")
        return EXIT_OK
    refused = app.refused_pats()

    def expiry(c: dict[str, Any]) -> str:
        dead = c["kind"] == "pat" and (c["org"], c["project"], c["feed"]) in refused
        return str(c["expires_at"]) + (" (refused: replaced on the next lookup or login)" if dead else "")

    rows = [("host", "org", "project", "feed", "kind", "scopes", "username", "expires (UTC)")]
    rows += [
        (c["host"] or "-", c["org"], c["project"] or "-", c["feed"] or "-", c["kind"],
         " ".join(c["scopes"]) or "-", c["username"], expiry(c))
        for c in items
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return EXIT_OK


def _token(app: App, args: argparse.Namespace) -> int:
    from ._text import iso_utc

    _warn_url(app, args.url)
    secret = app.token(args.url)
    if args.json:
        expires = None if secret.expires_at is None else iso_utc(secret.expires_at)
        document = {
            "username": secret.username,
            "secret": secret.secret,
            "kind": secret.kind,
            "expires_at": expires,
        }
        print(json.dumps(document))
    else:
        print(secret.secret)
    return EXIT_OK


def _setup(app: App, args: argparse.Namespace) -> int:
    from .tool_setup import usage_problem

    problem = usage_problem(args.tool, args.site, args.file)
    if problem:
        print(f"azure-artifacts-keyring setup: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    plan = app.setup(
        args.url,
        args.tool,
        primary=args.primary,
        tenant=args.tenant,
        site=args.site,
        name=args.name,
        file=args.file,
    )
    if args.dry_run:
        for edit in plan.edits:
            print(edit.diff(), end="") if edit.changed else print(
                f"{edit.path}: already set up, nothing to change"
            )
    else:
        written = app.apply(plan.edits)
        for edit in plan.edits:
            print(
                f"wrote {edit.path}"
                if edit.path in written
                else f"{edit.path}: already set up, nothing changed"
            )
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    if plan.publish and not args.dry_run:
        print(f"publish with: {plan.publish}")
    return EXIT_OK


_CREDENTIAL_COMMANDS = {"login": _login, "logout": _logout, "status": _status, "token": _token}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
