"""Resolved settings -> a secret: cache, tenant, credential chain, exchange, cache again.

This is the one module that knows every part; each part gets plain values from here.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional
from urllib.parse import urlsplit

from ._log import fingerprint, get_logger, one_line
from .errors import AuthenticationFailed, AzureArtifactsError, ChainFailed

if TYPE_CHECKING:
    from .cache import CachedSecret, SecretCache
    from .config.resolve import Resolution, Settings
    from .credentials.base import AccessToken, FlowOptions
    from .http import Http
    from .pat_store import PatStore
    from .pats import Action, StoredPat
    from .urls import FeedRef

PASS_THROUGH = ("static", "azure_pipelines")  # their secret is returned as is, never exchanged
CI_VARIABLES = ("CI", "TF_BUILD", "GITHUB_ACTIONS")
LOCK_TIMEOUT = 60.0
# Expiry claims beyond these are not believed: a cached secret is dropped by then at the latest.
MAX_BEARER_LIFETIME = 24 * 3600
MAX_SECRET_LIFETIME = 366 * 86400
IDENTITY_VARIABLES = ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE")


def request_scopes(scopes: Sequence[str], upload: bool) -> tuple[str, ...]:
    """Scopes asked of the token service: an upload URL always gets a write scope (see pats)."""
    from .pats import pat_scopes

    return pat_scopes(scopes, upload)


def is_interactive(setting: str, environ: Mapping[str, str], stderr_isatty: Optional[bool] = None) -> bool:
    """`auto`: a person can see stderr (where prompts go) and no CI variable is set."""
    if setting in ("always", "never"):
        return setting == "always"
    if any(environ.get(name, "").strip().lower() not in ("", "0", "false") for name in CI_VARIABLES):
        return False
    if stderr_isatty is None:
        try:
            stderr_isatty = sys.stderr is not None and sys.stderr.isatty()
        except (AttributeError, ValueError):
            stderr_isatty = False
    return stderr_isatty


def org_key(ref: FeedRef) -> str:
    return f"{ref.netloc}/{ref.org}".lower()


class TokenProvider:
    """SPEC §4 steps 2-5: pass-through credentials, then the cached secret or a new one (bearer,
    session token or PAT) obtained through the chain under an inter-process lock."""

    def __init__(
        self,
        environ: Mapping[str, str],
        now: Callable[[], float] = time.time,
        stderr_isatty: Optional[bool] = None,
    ) -> None:
        self.environ = environ
        self.now = now
        self.stderr_isatty = stderr_isatty
        self._http: dict[float, Http] = {}
        self._verified: set[str] = set()
        # Per thread: pip and others look up several feeds at once through this one provider.
        self._local = threading.local()
        self._pat_store: Optional[PatStore] = None

    # -- what the service layer calls -------------------------------------------------
    def provide(self, resolution: Resolution, username: Optional[str]) -> Optional[tuple[str, str]]:
        self._local.endpoint_username = None
        try:
            secret = self.secret(resolution)
        except AzureArtifactsError as exc:
            from .cache import LockTimeout

            prefix = f"no credential for '{resolution.ref.org}': " if isinstance(exc, LockTimeout) else ""
            get_logger().warning("%s%s", prefix, one_line(exc))
            return None
        # A caller's username wins; else the one an Azure Pipelines endpoint came with; else ours.
        user = username or self._local.endpoint_username or resolution.settings.username
        return (user, secret) if secret else None

    def forget(self, resolution: Resolution, revoke: bool = True) -> bool:
        """Forget cached secrets for the feed; PATs we created are revoked first unless `revoke` is False."""
        ref = resolution.ref
        cache = self.secret_cache()
        forgotten = False
        for key, entry in cache.entries():
            if entry.org.lower() != ref.org.lower():
                continue
            if ref.feed and entry.feed and entry.feed.lower() != ref.feed.lower():
                continue
            cache.delete(key)
            forgotten = True
        return self.forget_pats(resolution, revoke) or forgotten

    # -- the lookup -------------------------------------------------------------------
    def secret(self, resolution: Resolution) -> Optional[str]:
        # A static PAT or an Azure Pipelines credential set now wins over anything cached earlier;
        # checking them costs no request.
        attempts: list[tuple[str, str]] = []
        passed, others = self.pass_through(resolution, attempts)
        if passed is not None:
            return passed
        if resolution.settings.auth == "pat":
            return self.pat_secret(resolution, others, attempts)
        log = get_logger()
        cache = self.secret_cache()
        key = self.cache_key(resolution)
        hit = cache.get(key)
        if hit is not None:
            log.debug("using cached %s secret %s", hit.kind, fingerprint(hit.secret))
            return hit.secret
        with cache.lock(key, timeout=LOCK_TIMEOUT):
            hit = cache.get(key)  # another process may have done the work while we waited
            if hit is not None:
                return hit.secret
            entra, tenant, vssps_url = self.sign_in(resolution, others, attempts)
            entry = self.exchange(resolution, entra, vssps_url, tenant)
            try:
                cache.put(key, entry)
            except OSError as exc:  # a full or read-only disk costs the cache, not the secret
                log.warning("could not cache the secret for '%s': %s", resolution.ref.org, one_line(exc))
            return entry.secret

    def pass_through(
        self, resolution: Resolution, attempts: list[tuple[str, str]]
    ) -> tuple[Optional[str], list[str]]:
        """Run `static` / `azure_pipelines` (no network, returned as is); the other names wait."""
        settings, ref = resolution.settings, resolution.ref
        options = self.flow_options(
            resolution, tenant=settings.tenant, authority_host=settings.authority_host
        )
        names = self.chain_names(settings, options)
        get_logger().debug("credential chain: %s", " -> ".join(names) or "(empty)")
        passing = [n for n in names if n in PASS_THROUGH]
        if passing:
            token = self._run_chain(passing, options, ref, attempts)
            if token is not None:
                get_logger().debug("returning the %s token as is", "/".join(passing))
                self._local.endpoint_username = token.username
                return token.token, []
        return None, [n for n in names if n not in PASS_THROUGH]

    def sign_in(
        self, resolution: Resolution, names: list[str], attempts: list[tuple[str, str]]
    ) -> tuple[AccessToken, Optional[str], str]:
        """(Entra token, tenant, vssps URL). Flows that cannot run are ruled out before the
        discovery request, so a CI job with no credential fails without touching the network."""
        from .credentials.chain import unavailable_reason

        ref = resolution.ref
        settings = resolution.settings
        # Discovery will supply a tenant, so availability is judged as if one were known.
        hopeful = self.flow_options(
            resolution, tenant=settings.tenant or "organizations", authority_host=settings.authority_host
        )
        runnable = []
        for name in names:
            reason = unavailable_reason(name, hopeful)
            if reason is None:
                runnable.append(name)
            else:
                attempts.append((name, reason))
        if not runnable:
            raise self._failed(ref, attempts)
        tenant, authority_host, vssps_url = self.authority(resolution)
        options = self.flow_options(resolution, tenant=tenant, authority_host=authority_host)
        entra = self._run_chain(runnable, options, ref, attempts)
        if entra is None:
            raise self._failed(ref, attempts)
        return entra, tenant, vssps_url

    def exchange(
        self, resolution: Resolution, entra: AccessToken, vssps_url: str, tenant: Optional[str]
    ) -> CachedSecret:
        """Turn the Entra token into what `auth` asks for."""
        from .cache import CachedSecret

        settings, ref = resolution.settings, resolution.ref
        scopes = request_scopes(settings.scopes, ref.upload)
        meta = {"tenant": tenant or "", "vssps_url": vssps_url}
        if settings.auth == "bearer":
            return CachedSecret(
                "bearer",
                entra.token,
                settings.username,
                min(int(entra.expires_on), int(self.now()) + MAX_BEARER_LIFETIME),
                ref.org,
                ref.project,
                ref.feed,
                (),
                meta,
            )
        if settings.auth == "session":
            from .exchange.session import create_session_token

            valid_to = datetime.fromtimestamp(self.now() + settings.session_duration, tz=timezone.utc)
            issued = create_session_token(
                self.http(settings.timeout), vssps_url, entra.token, scopes, valid_to, self.display_name(ref)
            )
            if issued.authorization_id:
                meta["authorization_id"] = issued.authorization_id
            expires_at = min(issued.expires_at, int(self.now()) + MAX_SECRET_LIFETIME)
            return CachedSecret(
                "session", issued.token, settings.username, expires_at, ref.org, ref.project, ref.feed,
                issued.scopes or scopes, meta,
            )  # fmt: skip
        if settings.auth == "pat":
            return self.issue_pat(resolution, entra, vssps_url)
        raise AuthenticationFailed(f"auth = {settings.auth} is not supported yet")

    # -- PATs (SPEC §4 step 4): stored in the OS keyring, reused, rotated, revoked --------
    def pat_secret(
        self, resolution: Resolution, others: list[str], attempts: list[tuple[str, str]]
    ) -> Optional[str]:
        """The stored PAT while it outlives `pat_renew_before`; else a new one, made under the key's lock
        so that concurrent processes create one PAT between them."""
        from .pats import Action

        ref = resolution.ref
        log = get_logger()
        key = self.pat_key(resolution)
        stored, action = self.pat_state(resolution, key)
        if stored is not None and action is Action.REUSE:
            if self.pat_accepted(stored, resolution):
                log.debug("using stored PAT %s", fingerprint(stored.secret))
                return stored.secret
            log.warning("the stored PAT for '%s' was refused (revoked?): creating a new one", ref.org)
            self.pat_store().delete(key)
        with self.secret_cache().lock(key, timeout=LOCK_TIMEOUT):
            stored, action = self.pat_state(resolution, key)  # another process may have made one
            if stored is not None and action is Action.REUSE:
                return stored.secret
            try:
                entra, tenant, vssps_url = self.sign_in(resolution, others, attempts)
                return self.exchange(resolution, entra, vssps_url, tenant).secret
            except AzureArtifactsError as exc:
                if stored is None or action is not Action.ROTATE:
                    raise
                log.warning(
                    "could not rotate the PAT for '%s' (%s); using the current one until it expires",
                    ref.org,
                    one_line(exc),
                )
                return stored.secret

    def pat_accepted(self, stored: StoredPat, resolution: Resolution) -> bool:
        """Ask the token service once per process whether a stored PAT still works, so one
        revoked on the server is replaced instead of handed out until it expires. Only a 401
        counts as refusal: offline or failing services leave the PAT in use."""
        from .http import basic_auth_header

        if stored.secret in self._verified:
            return True
        url = f"{stored.vssps_url.rstrip('/')}/_apis/connectionData"
        try:
            response = self.http(resolution.settings.timeout).request(
                "GET",
                url,
                headers={"Authorization": basic_auth_header(stored.username, stored.secret)},
                check=False,
            )
        except AzureArtifactsError as exc:
            get_logger().debug("pat: could not verify (%s); using it", one_line(exc))
            return True
        get_logger().debug("pat: %s answered %d", url, response.status_code)
        if response.status_code == 401:
            return False
        self._verified.add(stored.secret)
        return True

    def issue_pat(self, resolution: Resolution, entra: AccessToken, vssps_url: str) -> CachedSecret:
        """Create a PAT and store it, then revoke the one it rotates out. Call under the key's lock."""
        from .cache import CachedSecret
        from .exchange.pat import create_pat
        from .pats import Action, StoredPat, display_name, pat_scopes, valid_to

        settings, ref = resolution.settings, resolution.ref
        key = self.pat_key(resolution)
        old, action = self.pat_state(resolution, key)
        now = self.now()
        scopes = pat_scopes(settings.scopes, ref.upload)
        name = display_name(socket.gethostname(), ref.org, ref.feed)
        issued = create_pat(
            self.http(settings.timeout),
            vssps_url,
            entra.token,
            scopes,
            valid_to(now, settings.pat_duration),
            name,
        )
        record = StoredPat(
            secret=issued.token, authorization_id=issued.authorization_id or "", created_at=int(now),
            expires_at=issued.expires_at, scopes=issued.scopes or scopes, host=ref.netloc.lower(),
            org=ref.org, project=ref.project, feed=ref.feed, vssps_url=vssps_url, display_name=name,
            username=settings.username, service=ref.feed_url(),
        )  # fmt: skip
        where = self.pat_store().put(key, record)
        if old is not None and action is Action.ROTATE and old.authorization_id:
            try:
                from .exchange.pat import revoke_pat

                revoke_pat(
                    self.http(settings.timeout), old.vssps_url or vssps_url, entra.token, old.authorization_id
                )
            except AzureArtifactsError as exc:
                get_logger().warning(
                    "rotated the PAT for '%s' but could not revoke the old one (%s): %s",
                    ref.org, old.display_name, one_line(exc),
                )  # fmt: skip
        meta = {"authorization_id": record.authorization_id, "vssps_url": vssps_url, "store": where}
        return CachedSecret(
            "pat", record.secret, settings.username, record.expires_at, ref.org, ref.project, ref.feed,
            record.scopes, meta,
        )  # fmt: skip

    def pat_state(self, resolution: Resolution, key: str) -> tuple[Optional[StoredPat], Action]:
        from .pats import decide, pat_scopes

        settings, ref = resolution.settings, resolution.ref
        stored = self.pat_store().get(key)
        wanted = pat_scopes(settings.scopes, ref.upload)
        action = decide(stored, self.now(), settings.pat_renew_before, wanted, ref.upload)
        get_logger().debug(
            "pat: %s (%s)", action.value, f"expires_at={stored.expires_at}" if stored else "none stored"
        )
        return stored, action

    def pat_key(self, resolution: Resolution) -> str:
        """One PAT per feed: the secret-cache key's parts plus project and feed."""
        ref = resolution.ref
        return self._key(resolution, project=(ref.project or "").lower(), feed=(ref.feed or "").lower())

    def pat_store(self) -> PatStore:
        if self._pat_store is None:
            from .pat_store import PatStore

            self._pat_store = PatStore(self.state_dir() / "pats")
        return self._pat_store

    def forget_pats(self, resolution: Resolution, revoke: bool) -> bool:
        """Drop our stored PATs for this feed, revoking each first when asked; a PAT that could not be
        revoked stays stored (so the user can retry) and the failure is raised."""
        store, ref = self.pat_store(), resolution.ref
        mine = [(key, pat) for key, pat in store.entries() if _same_feed(pat, ref)]
        if not mine:
            return False
        failures: list[str] = []
        if revoke:
            from .exchange.pat import revoke_pat

            entra, vssps_url = self.entra_for(resolution)
            for key, pat in mine:
                try:
                    revoke_pat(
                        self.http(resolution.settings.timeout), pat.vssps_url or vssps_url, entra.token,
                        pat.authorization_id,
                    )  # fmt: skip
                except AzureArtifactsError as exc:
                    failures.append(f"{pat.display_name}: {one_line(exc)}")
                    continue
                store.delete(key)
        else:
            for key, _pat in mine:
                store.delete(key)
        if failures:
            raise AuthenticationFailed(
                f"could not revoke {len(failures)} PAT(s) for '{ref.org}' (kept): {failures[0]}"
            )
        return True

    def entra_for(self, resolution: Resolution) -> tuple[AccessToken, str]:
        """An Entra token (and the vssps URL) through the chain, for calls such as revocation."""
        settings, ref = resolution.settings, resolution.ref
        tenant, authority_host, vssps_url = self.authority(resolution)
        options = self.flow_options(resolution, tenant=tenant, authority_host=authority_host)
        names = [n for n in self.chain_names(settings, options) if n not in PASS_THROUGH]
        attempts: list[tuple[str, str]] = []
        entra = self._run_chain(names, options, ref, attempts) if names else None
        if entra is None:
            raise self._failed(ref, attempts)
        return entra, vssps_url

    # -- pieces -------------------------------------------------------------------------
    def authority(self, resolution: Resolution) -> tuple[Optional[str], str, str]:
        """(tenant, authority host, vssps URL): pinned by config, else from the feed's 401 once per org."""
        settings, ref = resolution.settings, resolution.ref
        sources = settings.sources
        vssps = settings.vssps_url.replace("{org}", ref.org)
        if settings.tenant:
            get_logger().debug("tenant %s pinned by [%s]: no discovery", settings.tenant, sources["tenant"])
            return _sign_in(settings.tenant), settings.authority_host, vssps
        from .discovery import Challenge, DiscoveryCache, discover

        cache = DiscoveryCache(self.state_dir())
        challenge = cache.get(org_key(ref))
        if challenge is None:
            try:
                challenge = discover(
                    self.http(settings.timeout),
                    ref.feed_url(),
                    self.trusted_hosts(resolution, settings.authority_host),
                    self.trusted_hosts(resolution, vssps, feed_host=True),
                )
            except AzureArtifactsError as exc:
                get_logger().debug("discovery failed (%s): signing in without a tenant", one_line(exc))
                challenge = Challenge(None, None, None)
            else:
                try:
                    cache.put(org_key(ref), challenge)
                except OSError as exc:
                    get_logger().debug("discovery not cached: %s", exc.__class__.__name__)
        else:
            get_logger().debug("discovery: cached for %s (tenant %s)", org_key(ref), challenge.tenant)
        authority_host = settings.authority_host
        if challenge.authority_host and sources["authority_host"] == "default":
            authority_host = challenge.authority_host
        if challenge.vssps_url and sources["vssps_url"] == "default":
            vssps = challenge.vssps_url.rstrip("/")
        tenant = _sign_in(challenge.tenant) if challenge.tenant else None
        return tenant, authority_host, vssps

    def trusted_hosts(self, resolution: Resolution, *urls: str, feed_host: bool = False) -> set[str]:
        """Hosts a 401 may name beyond the known Entra / vssps ones: the URLs configured for this
        feed and, for the token service, a configured feed's own host (Azure DevOps Server). Other
        hosts of the config are not trusted: they would receive this host's credentials."""
        hosts = {urlsplit(u).netloc.lower() for u in urls if u}
        if feed_host and resolution.ref.kind == "configured":
            hosts.add(resolution.ref.netloc.lower())
        return hosts

    def chain_names(self, settings: Settings, options: FlowOptions) -> list[str]:
        from .credentials.chain import auto_chain

        configured = list(settings.credential)
        return auto_chain(options) if configured == ["auto"] else configured

    def flow_options(
        self, resolution: Resolution, *, tenant: Optional[str], authority_host: str
    ) -> FlowOptions:
        from .credentials.base import FlowOptions

        settings = resolution.settings
        return FlowOptions(
            org=resolution.ref.org,
            tenant=tenant,
            authority_host=authority_host,
            client_id=settings.client_id,
            timeout=settings.timeout,
            interactive=is_interactive(settings.interactive, self.environ, self.stderr_isatty),
            state_dir=self.state_dir(),
            environ=self.environ,
            token_env=settings.token_env,
            token_file=settings.token_file,
            service_url=resolution.ref.service,
            allow_imds="managed_identity" in settings.credential,
        )

    def cache_key(self, resolution: Resolution) -> str:
        """Everything that changes the secret; the expanded chain is left out on purpose so that
        a secret obtained interactively is found again by a non-interactive process."""
        return self._key(resolution)

    def _key(self, resolution: Resolution, **more: str) -> str:
        from .cache import cache_key

        settings, ref = resolution.settings, resolution.ref
        return cache_key(
            kind=settings.auth,
            host=ref.netloc.lower(),
            org=ref.org.lower(),
            scopes=sorted(request_scopes(settings.scopes, ref.upload)) if settings.auth != "bearer" else [],
            tenant=settings.tenant,
            authority_host=settings.authority_host,
            credential=list(settings.credential),
            client_id=settings.client_id,
            # The service principal or managed identity the environment names: another one
            # configured in the same account must not be handed this one's secret.
            identity=[self.environ.get(name) for name in IDENTITY_VARIABLES],
            vssps_url=settings.vssps_url if settings.sources["vssps_url"] != "default" else None,
            **more,
        )

    def state_dir(self) -> Path:
        from .cache import state_dir

        return state_dir(self.environ)

    def secret_cache(self) -> SecretCache:
        from .cache import SecretCache

        return SecretCache(self.state_dir() / "secrets", now=self.now)

    def http(self, timeout: float) -> Http:
        if timeout not in self._http:
            from .http import Http

            self._http[timeout] = Http(timeout=timeout)
        return self._http[timeout]

    def display_name(self, ref: FeedRef) -> str:
        return f"keyrings.azure-artifacts on {socket.gethostname()} for {ref.org}"

    def _run_chain(
        self, names: list[str], options: FlowOptions, ref: FeedRef, attempts: list[tuple[str, str]]
    ) -> Optional[AccessToken]:
        from .credentials.base import ADO_SCOPE
        from .credentials.chain import ChainedFlow, build_flow, fix_hint

        chain = ChainedFlow([build_flow(n, options) for n in names], ref.org, fix=fix_hint(ref.service))
        try:
            return chain.get_token(ADO_SCOPE)
        except ChainFailed as exc:
            attempts.extend(exc.attempts)
            if not exc.exhausted:
                raise self._failed(ref, attempts) from None
            return None

    def _failed(self, ref: FeedRef, attempts: list[tuple[str, str]]) -> ChainFailed:
        from .credentials.chain import fix_hint

        return ChainFailed(ref.org, attempts, fix_hint(ref.service))

    # -- explain --------------------------------------------------------------------------
    def describe_discovery(self, resolution: Resolution) -> str:
        """For `explain`: where the tenant comes from, without any request."""
        settings = resolution.settings
        options = self.flow_options(
            resolution, tenant=settings.tenant, authority_host=settings.authority_host
        )
        names = self.chain_names(settings, options)
        if names and all(name in PASS_THROUGH for name in names):
            return "not needed: a static or Azure Pipelines credential is handed over as it is"
        if settings.tenant:
            return f"tenant pinned by [{settings.sources['tenant']}]: no discovery request"
        from .discovery import DiscoveryCache

        found = DiscoveryCache(self.state_dir()).get(org_key(resolution.ref))
        if found is None:
            return "not discovered yet: the first lookup asks the feed once (its anonymous 401)"
        return f"tenant {found.tenant or '-'}, token service {found.vssps_url or '-'} (from the feed's 401, cached)"

    def describe_cache(self, resolution: Resolution) -> dict[str, Any]:
        """Kind and expiry of what a lookup would reuse (a stored PAT for `auth = pat`)."""
        if resolution.settings.auth == "pat":
            pat = self.pat_store().get(self.pat_key(resolution))
            kind, expires_at = ("pat", pat.expires_at) if pat is not None else (None, None)
        else:
            entry = self.secret_cache().peek(self.cache_key(resolution))
            kind, expires_at = (entry.kind, entry.expires_at) if entry is not None else (None, None)
        from .pats import iso_utc

        return {"kind": kind, "expires_at": None if expires_at is None else iso_utc(expires_at)}


def _same_feed(pat: StoredPat, ref: FeedRef) -> bool:
    """A stored PAT belongs to `ref`: same host and org; project and feed when both name one."""
    if pat.host != ref.netloc.lower() or pat.org.lower() != ref.org.lower():
        return False
    for mine, theirs in ((pat.project, ref.project), (pat.feed, ref.feed)):
        if mine and theirs and mine.lower() != theirs.lower():
            return False
    return True


def _sign_in(tenant: str) -> str:
    from .discovery import sign_in_tenant

    return sign_in_tenant(tenant)
