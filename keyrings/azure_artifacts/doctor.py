"""`doctor URL`: run the real path for one feed URL step by step, live, and say for the first
thing that breaks what to do about it.

Each step is a small function returning (status, detail, fix); `run` times them and skips the
steps an earlier failure makes meaningless. Nothing here prints, and no secret reaches a step:
an identity is named from the token's claims, a secret at most by its fingerprint.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

from . import keyring_checks
from ._log import fingerprint, one_line, redact
from ._text import is_guid
from .errors import AzureArtifactsError, ChainFailed
from .keyring_checks import FAILED, SKIPPED, Outcome, failed, ok, skipped
from .signin import SignIn
from .url_hints import CONNECT, why_not_ours

if TYPE_CHECKING:
    from .config.resolve import Resolution
    from .context import Context
    from .discovery import Authority
    from .secret import Secret
    from .signin import Grant


@dataclass(frozen=True)
class Step:
    """One line of the report: `fix` is set for a failure, `seconds` is how long the step took."""

    name: str
    status: str
    seconds: float
    detail: str
    fix: str = ""


@dataclass
class RecordingSignIn(SignIn):
    """The lookup's SignIn, remembering its authority and grant: the steps after discovery and
    sign-in reuse them instead of asking (or prompting) a second time."""

    decided: Optional[Authority] = None
    grant: Optional[Grant] = None

    def authority(self) -> Authority:
        if self.decided is None:
            self.decided = super().authority()
        return self.decided

    def token(self) -> Grant:
        if self.grant is None:
            self.grant = super().token()
        return self.grant


def run(
    url: str,
    environ: Mapping[str, str],
    *,
    now: Callable[[], float] = time.time,
    stderr_isatty: Optional[bool] = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[Step]:
    """Every step for `url`, in order; a step an earlier failure makes meaningless is skipped."""
    from .context import Context

    doctor = _Doctor(url, environ, Context(environ, now=now, stderr_isatty=stderr_isatty))
    steps: list[Step] = []
    for name, check, needs in doctor.plan():
        blocked = next((s for s in steps if s.name in needs and s.status == FAILED), None)
        if blocked is not None:
            steps.append(Step(name, SKIPPED, 0.0, f"step '{blocked.name}' failed"))
            continue
        start = clock()
        try:
            status, detail, fix = check()
        except AzureArtifactsError as exc:
            status, detail, fix = failed(one_line(exc))
        steps.append(Step(name, status, round(clock() - start, 3), redact(detail), redact(fix)))
    return steps


class _Doctor:
    """The state the steps hand on: the URL's settings, the sign-in, the secret obtained."""

    def __init__(self, url: str, environ: Mapping[str, str], ctx: Context) -> None:
        self.url, self.environ, self.ctx = url, environ, ctx
        self.resolution: Optional[Resolution] = None
        self.signin: Optional[RecordingSignIn] = None
        self.handed: Optional[Secret] = None
        self.handover_error: Optional[ChainFailed] = None
        self.secret: Optional[Secret] = None

    def plan(self) -> list[tuple[str, Callable[[], Outcome], tuple[str, ...]]]:
        """(step, check, the steps whose failure makes it meaningless)."""
        return [
            ("config", self.config_step, ()),
            ("url", self.url_step, ()),
            ("keyring", lambda: keyring_checks.in_process(self.url, self.environ), ("url",)),
            ("keyring on PATH", lambda: keyring_checks.on_path(self.environ), ("url",)),
            ("state", self.state_step, ("url",)),
            ("tls", self.tls_step, ("url", "config")),
            ("tenant", self.tenant_step, ("url", "config", "state")),
            ("credential", self.credential_step, ("url", "config", "state")),
            ("exchange", self.exchange_step, ("url", "config", "state", "credential")),
            ("feed", self.feed_step, ("url", "config", "state", "credential", "exchange")),
        ]

    def url_step(self) -> Outcome:
        from . import service

        ref, raw = service.recognise(self.url, self.environ)
        if ref is None:
            broken = service.unreadable(self.url, raw)
            if broken:
                return failed(
                    f"the configuration names this host, but: {broken}",
                    "fix the file (azure-artifacts-keyring check); until then this host is not declared",
                )
            hint = service.url_hint(self.url, None, raw)
            if hint:
                return failed(hint, "use the URL suggested, or " + CONNECT)
            naming = service.name_problem(self.url, self.environ)
            if naming:
                return failed(naming, CONNECT)
            return failed(
                *why_not_ours(self.url, lambda u: service.recognise(u, self.environ)[0] is not None)
            )
        problem = service.url_hint(self.url, ref, raw)
        if problem and "did you mean" in problem:  # a typo: this URL gets no package
            return failed(problem, "use the URL suggested, or " + CONNECT)
        where = "host declared by a host section" if ref.kind == "configured" else "built-in host"
        named = (("org", ref.org), ("project", ref.project), ("feed", ref.feed), ("view", ref.view))
        parts = ", ".join(f"{name} {value}" for name, value in named if value)
        note = f"; {problem}" if problem else ""
        return ok(f"{ref.netloc} ({where}): {parts}" + (", upload URL" if ref.upload else "") + note)

    def state_step(self) -> Outcome:
        """The state directory is ours alone (a refused one fails here, with the fix)."""
        from .cache import state_dir
        from .statefs import check_trusted

        state = state_dir(self.environ)
        check_trusted(state)  # UntrustedState: the step fails with its one line
        return ok(f"{state}" + ("" if state.is_dir() else " (created on first use)"))

    def config_step(self) -> Outcome:
        """The file first (a file that cannot be read hides its host sections from the url
        step), then what applies to this URL: its problems fail, other sections' only warn."""
        from . import service
        from .config.files import config_path, read_config
        from .config.resolve import env_options, missing_file, validate
        from .explain import rule_problems

        path = config_path(self.environ)
        raw = read_config(path)
        fix = f"fix {path} (azure-artifacts-keyring check lists all)"
        whole = [*raw.problems, *missing_file(raw, self.environ), *env_options(self.environ)[1]]
        if whole:
            return failed(_first(whole), fix)
        ref, _raw = service.recognise(self.url, self.environ)
        if ref is None:
            valid = validate(raw)
            found = len(valid.problems)
            state = f"{found} problem(s) (azure-artifacts-keyring check)" if found else "no problem"
            return ok(f"{path}: readable, {len(raw.sections)} artifacts section(s), {state}")
        self.resolution = resolution = service.layer(ref, raw, self.environ)
        problems = list(resolution.errors) + rule_problems(resolution, self.environ)
        self.ctx.use_ca_bundle(resolution.ref.feed_url(), resolution.settings.ca_bundle)
        if problems:
            return failed(_first(problems), fix)
        applied = ", ".join(f"[{s.name}]" for s in resolution.sections if s.applies)
        state = "" if raw.exists else " (not found: defaults apply)"
        chain = " -> ".join(SignIn(resolution, self.ctx).chain()) or "-"
        used = applied or "no section applies: defaults"
        warned = f"; warning: {_first(list(resolution.warnings))}" if resolution.warnings else ""
        return ok(f"{path}{state}: {used}; auth {resolution.settings.auth}, credential {chain}{warned}")

    def tls_step(self) -> Outcome:
        from .tls_probe import check

        assert self.resolution is not None
        return check(self.resolution)

    def _signin(self) -> RecordingSignIn:
        if self.signin is None:
            assert self.resolution is not None
            self.signin = RecordingSignIn(self.resolution, self.ctx)
        return self.signin

    def _hand_over(self) -> Optional[Secret]:
        """A static or Azure Pipelines credential, tried first as in a lookup (once)."""
        from .passthrough import hand_over

        if self.handed is None and self.handover_error is None:
            try:
                self.handed = hand_over(self._signin())
            except ChainFailed as exc:  # a configured token file that cannot be read
                self.handover_error = exc
        return self.handed

    def tenant_step(self) -> Outcome:
        from .config.settings import entra_less

        signin = self._signin()
        settings, ref = signin.resolution.settings, signin.resolution.ref
        handed = self._hand_over()
        if handed is not None or self.handover_error is not None:
            kind = handed.kind if handed is not None else "static"
            return skipped(f"not needed: a {kind} credential is handed over as it is")
        if entra_less(ref, settings):
            return skipped(
                "not needed: no host section for this host sets tenant or authority_host, so no Entra sign-in"
            )
        authority = signin.authority()
        if authority.how == "unknown":
            unreachable = self._unreachable()
            if unreachable:
                return failed(
                    f"could not ask the feed for its tenant: {unreachable}",
                    "check the network, HTTPS_PROXY / NO_PROXY and REQUESTS_CA_BUNDLE; or pin tenant = ...",
                )
            return ok(
                "unknown: the feed's 401 named no tenant (a proxy may strip it); signing in at "
                f"{authority.authority_host} without one, in the account's home tenant"
            )
        detail = f"{authority.tenant} ({authority.how}), token service {authority.vssps_url}"
        return self._pinned_matches(detail) if authority.how == "pinned" else ok(detail)

    def _unreachable(self) -> str:
        """Why the feed could not be asked (the lookup goes on without a tenant), or ""."""
        from .discovery import discover

        resolution = self._signin().resolution
        try:
            discover(self.ctx.http(resolution.settings.timeout), resolution.ref.feed_url())
        except AzureArtifactsError as exc:
            return one_line(exc)
        return ""

    def _pinned_matches(self, detail: str) -> Outcome:
        """A pinned tenant costs no request in a lookup; here the feed is asked anyway, live."""
        from .discovery import discover
        from .microsoft import NULL_TENANT

        settings, ref = self._signin().resolution.settings, self._signin().resolution.ref
        pinned, section = (settings.tenant or "").lower(), settings.source("tenant")
        try:
            named = discover(self.ctx.http(settings.timeout), ref.feed_url()).tenant
        except AzureArtifactsError as exc:
            return ok(f"{detail}; the feed could not be asked to confirm it ({one_line(exc)})")
        if not named or named in (NULL_TENANT, pinned) or not is_guid(pinned):
            return ok(detail + ("; the feed names the same tenant" if named == pinned else ""))
        return failed(
            f"tenant {pinned} is pinned by [{section}] but the feed belongs to tenant {named}",
            f"set tenant = {named} in [{section}] (or remove it: the feed names its tenant)",
        )

    def credential_step(self) -> Outcome:
        signin = self._signin()
        handed = self._hand_over()
        if self.handover_error is not None:
            return failed(one_line(self.handover_error), self.handover_error.fix)
        if handed is not None:
            shown = fingerprint(handed.secret)
            return ok(f"{handed.kind}: a configured credential ({shown}), used as it is")
        try:
            grant = signin.token()
        except ChainFailed as exc:
            return failed(_attempts(exc.attempts) or one_line(exc), self._chain_fix(exc))
        ruled_out = f"; ruled out: {_attempts(signin.attempts)}" if signin.attempts else ""
        return ok(f"{grant.flow}: a token for {identity(grant.token.token)}{ruled_out}")

    def _chain_fix(self, exc: ChainFailed) -> str:
        from .context import CI_VARIABLES

        interactive = self.ctx.interactive(self._signin().resolution.settings.interactive)
        in_ci = any(self.environ.get(v, "").strip().lower() not in ("", "0", "false") for v in CI_VARIABLES)
        if not (exc.exhausted and in_ci and not interactive):
            return exc.fix
        return (
            "no way to a token in CI: give the job an identity (AZURE_CLIENT_ID and AZURE_TENANT_ID "
            "with AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE, an Azure Pipelines service "
            "connection, a managed identity) or a PAT in AZURE_DEVOPS_EXT_PAT"
        )

    def exchange_step(self) -> Outcome:
        from ._text import iso_utc
        from .modes import mode_for

        if self.handed is not None:
            self.secret = self.handed
            return skipped(f"not needed: the {self.handed.kind} credential is the password")
        signin = self._signin()
        settings = signin.resolution.settings
        mode = mode_for(settings.auth)
        how = "from the cache" if _stored(mode, signin) else "issued now"
        self.secret = secret = mode.obtain(signin, None)
        if settings.auth == "session" and secret.kind == "bearer":
            how = "the session token was refused for this service identity: its Entra token is the password"
        expiry = "no expiry known" if secret.expires_at is None else f"expires {iso_utc(secret.expires_at)}"
        # The kind goes in parentheses: "bearer <word>" reads as a credential to the redactor.
        scopes = f" {' '.join(secret.scopes)}" if secret.scopes else ""
        return ok(f"{fingerprint(secret.secret)} ({secret.kind}{scopes}), {how}, {expiry}")

    def feed_step(self) -> Outcome:
        from .http import basic_auth_header, refused

        assert self.resolution is not None and self.secret is not None
        ref, settings, secret = self.resolution.ref, self.resolution.settings, self.secret
        if not ref.feed:
            return skipped("the URL names no feed: give the feed's index URL to check access")
        url = ref.feed_url()
        auth = {"Authorization": basic_auth_header(secret.username, secret.secret)}
        status = self.ctx.http(settings.timeout).request("GET", url, headers=auth, check=False)
        grant = self.signin.grant if self.signin is not None else None
        who, name = _who(self.secret, grant), _who(self.secret, grant, ids=False)
        feed = "/".join(p for p in (ref.org, ref.project, ref.feed) if p)
        if status.status_code == 200:
            note = (
                "; publishing needs Feed Publisher (Contributor), a GET cannot check it" if ref.upload else ""
            )
            return ok(f"HTTP 200 from {url} for {who}{note}")
        if status.status_code == 403:
            role = "Feed Publisher (Contributor)" if ref.upload else "Feed Reader"
            return failed(
                f"HTTP 403: {who} may not read feed {feed}",
                f"a feed owner gives {name} the {role} role (or higher): Feed settings > Permissions",
            )
        if refused(status):
            return failed(
                f"the feed refused {who} (HTTP {status.status_code})",
                f"make sure {name} is a member of organization {ref.org} and signs in to its tenant; "
                f"a revoked cached secret goes with `azure-artifacts-keyring logout {url}`",
            )
        if status.status_code == 404:
            return failed(f"HTTP 404: no feed {feed} (or {who} cannot see it)", CONNECT)
        return failed(f"HTTP {status.status_code} from {url}")


def _first(messages: list[str]) -> str:
    more = f" (+{len(messages) - 1} more)" if len(messages) > 1 else ""
    return messages[0] + more


def _who(secret: Optional[Secret], grant: Optional[Grant], *, ids: bool = True) -> str:
    """The identity the secret stands for, from a JWT's claims (the secret's or the grant's)."""
    assert secret is not None
    for token in (secret.secret, grant.token.token if grant is not None else ""):
        if claims(token):
            return identity(token, ids=ids)
    return f"the {secret.kind} credential {fingerprint(secret.secret)}"


def _attempts(attempts: list[tuple[str, str]]) -> str:
    return "; ".join(f"{name}: {reason}" for name, reason in attempts)


def _stored(mode: Any, signin: SignIn) -> bool:
    """Does the lookup have a secret already (a cached one, or a stored PAT)?"""
    key = mode.key(signin)
    if mode.kind == "pat":
        return signin.ctx.pat_store().get(key) is not None
    return signin.ctx.secret_cache().peek(key) is not None


def claims(token: str) -> Optional[dict[str, Any]]:
    """A JWT's payload, unverified (only to name who it is for), or None for anything else."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def identity(token: str, *, ids: bool = True) -> str:
    """`user@contoso.com (object id ..., tenant ...)` or `service principal <appid> (...)`, from
    the claims; `ids=False` leaves out the ids. Never the token."""
    found = claims(token) or {}
    user = found.get("upn") or found.get("unique_name") or found.get("preferred_username")
    app = found.get("appid") or found.get("azp")
    if not user and not app:
        return f"an identity its token does not name ({fingerprint(token)})"
    name = str(user) if user else f"service principal {app}"
    named = [
        f"{label} {found[key]}" for label, key in (("object id", "oid"), ("tenant", "tid")) if found.get(key)
    ]
    return f"{name} ({', '.join(named)})" if ids and named else name
