"""The application API behind the command line: explain, check, doctor, login, logout, status, token.

Each command is a method that returns plain data (dicts and dataclasses, never a secret except
from `token`); the CLI only parses arguments and prints. Errors are AzureArtifactsError with a
one-line message.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from .errors import AuthenticationFailed, AzureArtifactsError, ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from .config.resolve import Resolution
    from .context import Context
    from .doctor import Step
    from .secret import Secret
    from .tool_setup import FileEdit, Setup


@dataclass(frozen=True)
class Explanation:
    """`explain`: the JSON report, plus lines only the human form shows."""

    report: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LoginResult:
    """`login`: the secret (never printed), whom the sign-in was for (from the token's claims,
    None when nothing signed in: a cached or configured credential was enough)."""

    secret: Secret
    who: Optional[str]
    flow: Optional[str]


@dataclass(frozen=True)
class Forgotten:
    """`logout`: how many cached secrets and stored PATs went (PATs revoked first when asked)."""

    secrets: int
    pats: int


@dataclass(frozen=True)
class CheckResult:
    path: str
    exists: bool
    sections: int
    problems: list[str]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # how each host section matches, what it gets


def _feed_records(resolution: Resolution, ctx: Context) -> tuple[list[str], list[str]]:
    """Keys of the cached secrets and stored PATs a `logout URL` concerns."""
    from .pat.mode import same_feed

    ref = resolution.ref
    secrets = [
        key
        for key, entry in ctx.secret_cache().entries()
        if entry.org.lower() == ref.org.lower()
        and not (ref.feed and entry.feed and entry.feed.lower() != ref.feed.lower())
    ]
    pats = [key for key, pat in ctx.pat_store().entries() if same_feed(pat, ref)]
    return secrets, pats


def _counts(resolution: Resolution, ctx: Context) -> tuple[int, int]:
    secrets, pats = _feed_records(resolution, ctx)
    return len(secrets), len(pats)


def _drop_cached(resolution: Resolution, ctx: Context) -> None:
    """`login --force/--account`: the feed's cached secrets go (stored PATs stay: they are
    checked, and replaced when refused, by the lookup itself)."""
    cache = ctx.secret_cache()
    for key in _feed_records(resolution, ctx)[0]:
        cache.delete(key)


class App:
    """One environment (a copy of os.environ, with --config applied) and its clock and terminal."""

    def __init__(
        self,
        environ: Mapping[str, str],
        now: Callable[[], float] = time.time,
        stderr_isatty: Optional[bool] = None,
    ) -> None:
        self.environ = environ
        self.now = now
        self.stderr_isatty = stderr_isatty

    def context(self) -> Context:
        from .context import Context

        return Context(self.environ, now=self.now, stderr_isatty=self.stderr_isatty)

    # -- configuration --------------------------------------------------------------------
    def check(self) -> CheckResult:
        from .config.files import config_path, read_config
        from .config.hosts import host_messages
        from .config.resolve import env_options, validate
        from .config.rules import findings

        path = config_path(self.environ)
        valid = validate(read_config(path))
        # A bad compatibility variable blocks every lookup, whose message sends the user here.
        problems = list(valid.problems) + env_options(self.environ)[1]
        found = findings(valid, self.environ)
        problems += [f.message for f in found if f.problem]
        warnings, notes = host_messages(valid)
        warnings += [f.message for f in found if not f.problem]
        return CheckResult(str(path), valid.raw.exists, len(valid.raw.sections), problems, warnings, notes)

    def explain(self, url: str) -> Explanation:
        from .explain import explain

        return explain(url, self.environ, self.context())

    def doctor(self, url: str) -> list[Step]:
        """Run the real path for `url` live, step by step: each step's outcome, time and fix."""
        from .doctor import run

        return run(url, self.environ, now=self.now, stderr_isatty=self.stderr_isatty)

    # -- credentials ----------------------------------------------------------------------
    def resolution(self, url: str, *, interactive: bool = True) -> Resolution:
        """Settings for one of our URLs; a person asked for this, so unless the config says
        `interactive = never`, signing in may prompt."""
        from . import service

        ref, raw = service.recognise(url, self.environ)
        if ref is None:
            broken = service.unreadable(url, raw)
            if broken:
                raise ConfigError([broken])
            raise AzureArtifactsError(
                service.url_hint(url, None, raw)
                or f"{url} is not an Azure Artifacts feed URL (azure-artifacts-keyring doctor URL says why)"
            )
        resolution = service.layer(ref, raw, self.environ)
        if resolution.errors:
            raise ConfigError(list(resolution.errors))
        settings = resolution.settings
        if interactive and settings.interactive != "never":
            import dataclasses

            settings = settings.override("interactive", "always", "command line")
            resolution = dataclasses.replace(resolution, settings=settings)
        return resolution

    def url_hint(self, url: str) -> Optional[str]:
        """A typo or a missing feed in one of our URLs (the lookup still runs), else None."""
        from . import service

        ref, raw = service.recognise(url, self.environ)
        return None if ref is None else service.url_hint(url, ref, raw)

    def token(self, url: str, *, interactive: bool = False) -> Secret:
        """The secret a lookup would return (the same cache, chain and interactivity rules)."""
        from .lookup import obtain

        return obtain(self.resolution(url, interactive=interactive), self.context())

    def login(self, url: str, *, account: Optional[str] = None, force: bool = False) -> LoginResult:
        """Obtain and cache a credential now; a stored PAT the service refuses is replaced.
        `account`: sign in as this user; `force`: sign in again instead of reusing the cached
        sign-in (the feed's cached secret is dropped first in both cases)."""
        from .doctor import RecordingSignIn, identity
        from .errors import ChainFailed
        from .login_text import login_failed
        from .modes import mode_for
        from .passthrough import hand_over

        resolution = self.resolution(url, interactive=True)
        ctx = self.context()
        ctx.login_hint, ctx.fresh_sign_in = account, force
        if account or force:
            _drop_cached(resolution, ctx)
        signin = RecordingSignIn(resolution, ctx)
        try:
            secret = hand_over(signin, None) or mode_for(resolution.settings.auth).obtain(signin, None)
        except ChainFailed as exc:
            raise AuthenticationFailed(
                login_failed(exc, resolution.ref, account=account, force=force)
            ) from None
        grant = signin.grant
        who = identity(grant.token.token, ids=False) if grant is not None else None
        return LoginResult(secret, who, grant.flow if grant is not None else None)

    def logout(self, url: Optional[str], *, revoke: bool) -> Forgotten:
        """Forget what is cached for one feed, or everything (then the sign-in cache too)."""
        from .lookup import forget

        ctx = self.context()
        if not url:
            pats = len(list(ctx.pat_store().entries()))
            secrets = len(list(ctx.secret_cache().entries()))
            self.logout_all(revoke=revoke)
            return Forgotten(secrets, pats)
        resolution = self.resolution(url)
        secrets, pats = _counts(resolution, ctx)
        forget(resolution, ctx, revoke)
        after = _counts(resolution, ctx)
        return Forgotten(secrets - after[0], pats - after[1])

    def logout_all(self, *, revoke: bool) -> None:
        """Every cached secret and the sign-in cache go; each stored PAT through its feed's
        settings (to revoke it). Tenant discovery is kept: it is no credential. Raises when some
        PATs could not be revoked (they are kept)."""
        from ._log import one_line
        from .credentials.msal_user import forget_sign_ins
        from .lookup import forget

        ctx = self.context()
        store = ctx.pat_store()
        failures = []
        for service_url in sorted({pat.service for _key, pat in store.entries()}):
            try:
                forget(self.resolution(service_url), ctx, revoke)
            except AzureArtifactsError as exc:
                if revoke:
                    failures.append(f"{service_url}: {one_line(exc)}")
                    continue
                for key, pat in store.entries():  # settings no longer resolve: forget by record
                    if pat.service == service_url:
                        store.delete(key)
        # Last: revoking needed the sign-in.
        kept = [str(path) for path in ctx.secret_cache().clear()]
        kept += forget_sign_ins(ctx.state_dir(), ctx.environ)
        if failures:
            raise AzureArtifactsError(
                f"{len(failures)} feed(s) kept their PATs, they could not be revoked: {failures[0]}"
            )
        if kept:  # Windows: another process (pip, an antivirus) still holds the file
            more = f" (+{len(kept) - 1} more)" if len(kept) > 1 else ""
            raise AzureArtifactsError(
                f"could not remove {kept[0]}{more}: another process may hold it; "
                "close pip/uv and run logout --all again"
            )

    # -- tools ----------------------------------------------------------------------------
    def setup(self, url: str, tool: str, *, cwd: Optional[Path] = None, **options: Any) -> Setup:
        """The edits that connect `tool` to the feed (nothing written yet), with notes."""
        from pathlib import Path

        from .tool_setup import prepare

        return prepare(url, tool, cwd=cwd or Path.cwd(), environ=self.environ, **options)

    def apply(self, edits: list[FileEdit]) -> list[Path]:
        """Write the edits that change something (atomically, all checked first)."""
        from .tool_setup import apply

        return apply(edits)

    def status(self) -> list[dict[str, Any]]:
        """Every cached secret and stored PAT, described without the secret."""
        from ._text import iso_utc

        ctx = self.context()
        records: list[Any] = [entry for _key, entry in ctx.secret_cache().entries()]
        records += [pat for _key, pat in ctx.pat_store().entries()]
        items: list[dict[str, Any]] = [
            {
                "host": getattr(r, "host", None) or getattr(r, "meta", {}).get("host"),
                "org": r.org,
                "project": r.project,
                "feed": r.feed,
                "kind": getattr(r, "kind", "pat"),
                "scopes": list(r.scopes),
                "username": r.username,
                "expires_at": iso_utc(r.expires_at),
            }
            for r in records
        ]
        return sorted(items, key=lambda c: (c["org"].lower(), c["project"] or "", c["feed"] or "", c["kind"]))

    def accounts(self) -> list[dict[str, str]]:
        """The people signed in (our persisted MSAL cache), per authority and tenant; no secret,
        and nothing is created when there is no cache."""
        from .credentials.msal_user import CACHE_FILE_NAME

        ctx = self.context()
        if not (ctx.state_dir() / CACHE_FILE_NAME).exists():
            return []
        from .credentials.base import FlowOptions
        from .credentials.msal_user import cached_account_entries

        options = FlowOptions(org="", state_dir=ctx.state_dir(), environ=self.environ)
        found = {
            (str(e.get("environment") or ""), str(e.get("realm") or ""), str(e.get("username") or ""))
            for e in cached_account_entries(options)
        }
        return [{"authority": a, "tenant": t, "username": u} for a, t, u in sorted(found)]

    def refused_pats(self) -> set[tuple[str, Optional[str], Optional[str]]]:
        """(org, project, feed) of stored PATs the token service refused the last time it was asked."""
        store = self.context().pat_store()
        return {(p.org, p.project, p.feed) for key, p in store.entries() if store.refused(key)}
