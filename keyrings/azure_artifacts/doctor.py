"""`doctor URL`: run the real path for one feed URL step by step, live, and say for the first
thing that breaks what to do about it.

Each step is a small function returning (status, detail, fix); `run` times them and skips the
steps an earlier failure makes meaningless. Nothing here prints, and no secret reaches a step:
an identity is named from the token's claims, a secret at most by its fingerprint.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

from . import urls
from ._log import fingerprint, one_line, redact
from .errors import AzureArtifactsError, ChainFailed
from .signin import SignIn

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from .config.resolve import Resolution
    from .context import Context
    from .discovery import Authority
    from .secret import Secret
    from .signin import Grant

OK, FAILED, SKIPPED = "ok", "failed", "skipped"
BACKEND = "AzureArtifactsKeyring"
KEYRING_CLI_TIMEOUT = 30.0
INSTALL_CLI = "uv tool install keyring --with keyrings.azure-artifacts (or: pipx inject keyring keyrings.azure-artifacts)"
# Organization-level hosts people paste instead of the feed host, and words of look-alikes.
_LOOKS_LIKE = ("azure.com", "visualstudio.com", "codedev.ms", "codeapp.ms", "vsts.me", "azure")
# Values of PYTHON_KEYRING_BACKEND / default-keyring that switch keyring off.
_DISABLED = ("keyring.backends.null.Keyring", "keyring.backends.fail.Keyring")
_CHAINER = "keyring.backends.chainer.ChainerBackend"

Outcome = tuple[str, str, str]  # status, detail, fix


@dataclass(frozen=True)
class Step:
    """One line of the report: `fix` is set for a failure, `seconds` is how long the step took."""

    name: str
    status: str
    seconds: float
    detail: str
    fix: str = ""


@dataclass
class _RecordingSignIn(SignIn):
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
            status, detail, fix = FAILED, one_line(exc), ""
        steps.append(Step(name, status, round(clock() - start, 3), redact(detail), redact(fix)))
    return steps


class _Doctor:
    """The state the steps hand on: the URL's settings, the sign-in, the secret obtained."""

    def __init__(self, url: str, environ: Mapping[str, str], ctx: Context) -> None:
        self.url, self.environ, self.ctx = url, environ, ctx
        self.resolution: Optional[Resolution] = None
        self.signin: Optional[_RecordingSignIn] = None
        self.handed: Optional[Secret] = None
        self.handover_error: Optional[ChainFailed] = None
        self.secret: Optional[Secret] = None

    def plan(self) -> list[tuple[str, Callable[[], Outcome], tuple[str, ...]]]:
        """(step, check, the steps whose failure makes it meaningless)."""
        return [
            ("url", self.url_step, ()),
            ("keyring", lambda: keyring_step(self.url, self.environ), ("url",)),
            ("keyring on PATH", lambda: keyring_cli_step(self.environ), ("url",)),
            ("config", self.config_step, ("url",)),
            ("tenant", self.tenant_step, ("url", "config")),
            ("credential", self.credential_step, ("url", "config")),
            ("exchange", self.exchange_step, ("url", "config", "credential")),
            ("feed", self.feed_step, ("url", "config", "credential", "exchange")),
        ]

    # -- 1. the URL ------------------------------------------------------------------------
    def url_step(self) -> Outcome:
        from . import service

        ref, _raw = service.recognise(self.url, self.environ)
        if ref is None:
            return FAILED, *why_not_ours(self.url, self.environ)
        where = "host declared by a host section" if ref.kind == "configured" else "built-in host"
        named = (("org", ref.org), ("project", ref.project), ("feed", ref.feed), ("view", ref.view))
        parts = ", ".join(f"{name} {value}" for name, value in named if value)
        return OK, f"{ref.netloc} ({where}): {parts}" + (", upload URL" if ref.upload else ""), ""

    # -- 3. the configuration --------------------------------------------------------------
    def config_step(self) -> Outcome:
        from .app import App

        checked = App(self.environ).check()
        resolution = self.resolution = _resolve(self.url, self.environ)
        problems = list(resolution.errors) or checked.problems
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            return (
                FAILED,
                problems[0] + more,
                f"fix {checked.path}: azure-artifacts-keyring check lists every problem",
            )
        applied = [f"[{s.name}]" for s in resolution.sections if s.applies]
        state = "" if checked.exists else " (not found: defaults apply)"
        chain = " -> ".join(SignIn(resolution, self.ctx).chain()) or "-"
        used = ", ".join(applied) or "no section applies: defaults"
        s = resolution.settings
        return OK, f"{checked.path}{state}: {used}; auth {s.auth}, credential {chain}", ""

    def _signin(self) -> _RecordingSignIn:
        if self.signin is None:
            assert self.resolution is not None
            self.signin = _RecordingSignIn(self.resolution, self.ctx)
        return self.signin

    # -- 4. the tenant ---------------------------------------------------------------------
    def _hand_over(self) -> Optional[Secret]:
        """A static or Azure Pipelines credential, as the lookup tries it first (once)."""
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
            return SKIPPED, f"not needed: a {kind} credential is handed over as it is", ""
        if entra_less(ref, settings.sources):
            return SKIPPED, "not needed: no tenant or authority_host for this host, so no Entra sign-in", ""
        authority = signin.authority()
        if authority.how == "unknown":
            return OK, (f"unknown: the feed's 401 named no tenant (a proxy may strip it); signing in at "
                        f"{authority.authority_host} without one, in the account's home tenant"), ""  # fmt: skip
        detail = f"{authority.tenant} ({authority.how}), token service {authority.vssps_url}"
        if authority.how != "pinned":
            return OK, detail, ""
        return self._pinned_matches(detail)

    def _pinned_matches(self, detail: str) -> Outcome:
        """A pinned tenant costs no request in a lookup; here the feed is asked anyway, live."""
        from .discovery import discover
        from .microsoft import NULL_TENANT

        signin = self._signin()
        settings, ref = signin.resolution.settings, signin.resolution.ref
        pinned = (settings.tenant or "").lower()
        try:
            named = discover(self.ctx.http(settings.timeout), ref.feed_url()).tenant
        except AzureArtifactsError as exc:
            return OK, f"{detail}; the feed could not be asked to confirm it ({one_line(exc)})", ""
        if not named or named in (NULL_TENANT, pinned) or not _is_guid(pinned):
            return OK, detail + ("; the feed names the same tenant" if named == pinned else ""), ""
        return (
            FAILED,
            f"tenant {pinned} is pinned by [{settings.source('tenant')}] but the feed belongs to tenant {named}",
            f"set tenant = {named} in [{settings.source('tenant')}] (or remove it: the feed names its tenant)",
        )

    # -- 5. the credential flows -----------------------------------------------------------
    def credential_step(self) -> Outcome:
        signin = self._signin()
        handed = self._hand_over()
        if self.handover_error is not None:
            return FAILED, one_line(self.handover_error), self.handover_error.fix
        if handed is not None:
            tried = _attempts(signin.attempts, "; not available: {}")
            return (
                OK,
                f"{handed.kind}: a configured credential ({fingerprint(handed.secret)}), used as it is{tried}",
                "",
            )
        try:
            grant = signin.token()
        except ChainFailed as exc:
            return FAILED, _attempts(exc.attempts, "{}") or one_line(exc), self._chain_fix(exc)
        tried = _attempts(signin.attempts, "; ruled out: {}")
        return OK, f"{grant.flow}: a token for {identity(grant.token.token)}{tried}", ""

    def _chain_fix(self, exc: ChainFailed) -> str:
        from .context import CI_VARIABLES

        settings = self._signin().resolution.settings
        in_ci = any(self.environ.get(v, "").strip().lower() not in ("", "0", "false") for v in CI_VARIABLES)
        if exc.exhausted and in_ci and not self.ctx.interactive(settings.interactive):
            return ("no way to a token in CI: give the job an identity (AZURE_CLIENT_ID and AZURE_TENANT_ID "
                    "with AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE, an Azure Pipelines service "
                    "connection, a managed identity) or a PAT in AZURE_DEVOPS_EXT_PAT")  # fmt: skip
        return exc.fix

    # -- 6. the exchange -------------------------------------------------------------------
    def exchange_step(self) -> Outcome:
        from ._text import iso_utc
        from .modes import mode_for

        if self.handed is not None:
            self.secret = self.handed
            return SKIPPED, f"not needed: the {self.handed.kind} credential is the password", ""
        signin = self._signin()
        settings = signin.resolution.settings
        mode = mode_for(settings.auth)
        cached = _stored(mode, signin)
        self.secret = secret = mode.obtain(signin, None)
        expiry = "no expiry known" if secret.expires_at is None else f"expires {iso_utc(secret.expires_at)}"
        how = "from the cache" if cached else "issued now"
        if settings.auth == "session" and secret.kind == "bearer":
            how = "the session token was refused for this service identity: its Entra token is the password"
        scopes = f" ({' '.join(secret.scopes)})" if secret.scopes else ""
        return OK, f"{secret.kind}{scopes} {fingerprint(secret.secret)}, {how}, {expiry}", ""

    # -- 7. the feed -----------------------------------------------------------------------
    def feed_step(self) -> Outcome:
        from .http import basic_auth_header, refused

        assert self.resolution is not None and self.secret is not None
        ref, settings, secret = self.resolution.ref, self.resolution.settings, self.secret
        if not ref.feed:
            return SKIPPED, "the URL names no feed: give the feed's index URL to check access", ""
        url = ref.feed_url()
        response = self.ctx.http(settings.timeout).request(
            "GET",
            url,
            headers={"Authorization": basic_auth_header(secret.username, secret.secret)},
            check=False,
        )
        who = self._who()
        feed = "/".join(p for p in (ref.org, ref.project, ref.feed) if p)
        status = response.status_code
        if status == 200:
            note = (
                "; publishing needs Feed Publisher (Contributor), which a GET cannot check"
                if ref.upload
                else ""
            )
            return OK, f"HTTP 200 from {url} for {who}{note}", ""
        if status == 403:
            role = "Feed Publisher (Contributor)" if ref.upload else "Feed Reader"
            return (FAILED, f"HTTP 403: {who} may not read feed {feed}",
                    f"a feed owner gives {self._who(ids=False)} the {role} role (or higher): Artifacts > {ref.feed} > "
                    "Feed settings > Permissions")  # fmt: skip
        if refused(response):
            return (FAILED, f"the feed refused the credential of {who} (HTTP {status})",
                    "make sure the identity is a user of organization "
                    f"{ref.org} and signs in to its tenant (see the tenant step); then "
                    f"azure-artifacts-keyring logout {ref.feed_url()} and try again")  # fmt: skip
        if status == 404:
            return (
                FAILED,
                f"HTTP 404: no feed {feed} (or {who} cannot see it)",
                "copy the URL from the feed's Connect to feed page",
            )
        return FAILED, f"HTTP {status} from {url}", ""

    def _who(self, *, ids: bool = True) -> str:
        """The identity the secret stands for, from a JWT's claims (the secret's or the grant's)."""
        assert self.secret is not None
        grant = self.signin.grant if self.signin is not None else None
        for token in (self.secret.secret, grant.token.token if grant is not None else ""):
            if claims(token):
                return identity(token, ids=ids)
        return f"the {self.secret.kind} credential {fingerprint(self.secret.secret)}"


def _resolve(url: str, environ: Mapping[str, str]) -> Resolution:
    from . import service

    resolution = service.resolve(url, environ)
    assert resolution is not None  # the url step recognised it
    return resolution


def _attempts(attempts: list[tuple[str, str]], template: str) -> str:
    return template.format("; ".join(f"{name}: {reason}" for name, reason in attempts)) if attempts else ""


def _stored(mode: Any, signin: SignIn) -> bool:
    """Does the lookup have a secret already (a cached one, or a stored PAT)?"""
    key = mode.key(signin)
    if mode.kind == "pat":
        return signin.ctx.pat_store().get(key) is not None
    return signin.ctx.secret_cache().peek(key) is not None


def _is_guid(text: str) -> bool:
    import uuid

    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


# -- 1. why a URL is not ours -------------------------------------------------------------------
def why_not_ours(url: str, environ: Mapping[str, str]) -> tuple[str, str]:
    """(what is wrong, the fix) for a URL the backend returns nothing for."""
    from urllib.parse import urlsplit

    from .service import recognise

    parts = urlsplit(url if "://" in url else f"https://{url}")
    try:
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return f"{url}: the port is not a number", "copy the URL from the feed's Connect to feed page"

    def ours(scheme: str, netloc: str) -> bool:
        return recognise(parts._replace(scheme=scheme, netloc=netloc).geturl(), environ)[0] is not None

    if parts.scheme.lower() == "http" and ours("https", parts.netloc):
        return "http: a token is only ever sent over https", "use https://" + url.split("://", 1)[1]
    if port and ours("https", host):
        return (f"{host} on port {port}: Azure DevOps serves feeds on port 443 only, so another port is "
                "somebody else's server", f"remove :{port} from the URL")  # fmt: skip
    if any(urls.host_matches(host, known) for known in urls.FEED_HOSTS):
        return ("not a feed URL: expected https://pkgs.dev.azure.com/ORG[/PROJECT]/_packaging/FEED/pypi/simple/",
                "copy the URL from the feed's Connect to feed page")  # fmt: skip
    if any(word in host for word in _LOOKS_LIKE):
        return (f"{host} is not an Azure Artifacts feed host (look-alike hosts never get a token): "
                "feeds live on pkgs.dev.azure.com or ORG.pkgs.visualstudio.com",
                "copy the URL from the feed's Connect to feed page")  # fmt: skip
    return (f"{host or url} is not an Azure DevOps host and no [artifacts host=...] section declares it",
            f'for Azure DevOps Server add [artifacts host="{parts.netloc or url}"] to keyringrc.cfg')  # fmt: skip


# -- 2. will keyring ask this backend -----------------------------------------------------------
def keyring_step(url: str, environ: Mapping[str, str]) -> Outcome:
    """What keyring would use here: a backend named by the environment or its config file (which
    loads no plugin), else the highest priority; in the chainer, whoever answers before us."""
    from keyring import backend
    from keyring.util import platform_

    config = platform_.config_root() / "keyringrc.cfg"
    named = environ.get("PYTHON_KEYRING_BACKEND", "").strip()
    source, fix = "PYTHON_KEYRING_BACKEND", "unset PYTHON_KEYRING_BACKEND"
    if not named:
        named = _default_keyring(config)
        source, fix = f"default-keyring in {config}", f"remove default-keyring from [backend] in {config}"
    if named.startswith("keyrings.azure_artifacts."):
        return OK, f"{source} names this backend: keyring uses it alone", ""
    if named in _DISABLED:
        return FAILED, f"keyring is disabled: {source} = {named}", fix
    if named and named != _CHAINER:
        return FAILED, f"{source} = {named}: keyring uses only that backend and loads no plugin", fix
    rings = backend.get_all_keyring()
    ours = next((r for r in rings if type(r).__name__ == BACKEND), None)
    if ours is None:
        return (
            FAILED,
            "keyring does not find this backend in this Python",
            "pip install keyrings.azure-artifacts next to keyring",
        )
    chosen = max(rings, key=backend.by_priority)
    if chosen is ours and named != _CHAINER:
        return OK, f"keyring uses this backend (priority {ours.priority:g}; {_priorities(rings)})", ""
    if type(chosen).__name__ != "ChainerBackend" and named != _CHAINER:
        return (FAILED, f"keyring uses {_name(chosen)} alone (priority {chosen.priority:g} > {ours.priority:g})",
                f"PYTHON_KEYRING_BACKEND={_CHAINER}, or uninstall {type(chosen).__module__}")  # fmt: skip
    chained = [r for r in rings if type(r).__name__ != "ChainerBackend" and r.priority > ours.priority]
    for ring in sorted(chained, key=backend.by_priority, reverse=True):
        if _answers(ring, url):
            return (FAILED, f"{_name(ring)} (priority {ring.priority:g}) answers first with a credential stored for this URL",
                    f"delete it: keyring del {url} USERNAME")  # fmt: skip
    return OK, f"keyring's chainer asks this backend (priority {ours.priority:g}; {_priorities(rings)})", ""


def _default_keyring(path: Any) -> str:
    import configparser

    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
        return parser.get("backend", "default-keyring", fallback="").strip()
    except (configparser.Error, OSError, UnicodeDecodeError):
        return ""


def _answers(ring: KeyringBackend, url: str) -> bool:
    try:
        return ring.get_credential(url, None) is not None
    except Exception:  # a backend that fails here is skipped by keyring's chainer too
        return False


def _name(ring: KeyringBackend) -> str:
    return f"{type(ring).__module__}.{type(ring).__name__}"


def _priorities(rings: list[KeyringBackend]) -> str:
    ranked = sorted(rings, key=lambda r: r.priority, reverse=True)
    return ", ".join(f"{_name(r)} {r.priority:g}" for r in ranked)


def keyring_cli_step(environ: Mapping[str, str]) -> Outcome:
    """uv and pip --keyring-provider subprocess run the `keyring` on PATH: does it have us?"""
    found = shutil.which("keyring", path=environ.get("PATH", os.defpath))
    if found is None:
        return SKIPPED, ("no `keyring` on PATH: only uv and pip --keyring-provider subprocess need one "
                         f"({INSTALL_CLI})"), ""  # fmt: skip
    try:
        listed = subprocess.run(
            [found, "--list-backends"], env=dict(environ), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=KEYRING_CLI_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return FAILED, f"{found} --list-backends did not answer in {KEYRING_CLI_TIMEOUT:g} s", ""
    except OSError as exc:
        return FAILED, f"could not run {found}: {one_line(exc)}", INSTALL_CLI
    if BACKEND in listed.stdout:
        return OK, f"{found} has this backend", ""
    others = ", ".join(line.split(" (")[0] for line in listed.stdout.splitlines() if line.strip()) or "none"
    return (FAILED, f"{found} lacks this backend (it has: {others}): uv and pip --keyring-provider "
            "subprocess get no credential from it", INSTALL_CLI)  # fmt: skip


# -- who a token stands for ---------------------------------------------------------------------
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
        return f"an identity this token does not name ({fingerprint(token)})"
    name = str(user) if user else f"service principal {app}"
    named = [f"{label} {found[key]}" for label, key in (("object id", "oid"), ("tenant", "tid")) if found.get(key)]
    return f"{name} ({', '.join(named)})" if ids and named else name
