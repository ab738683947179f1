"""Resolved settings -> an Entra ID token: which flows run, where to sign in, and the chain run.

Flows that cannot run here are ruled out before the discovery request, so a CI job with no
credential fails without touching the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

from .errors import AuthenticationFailed, ChainFailed

if TYPE_CHECKING:
    from .config.resolve import Resolution
    from .context import Context
    from .credentials.base import AccessToken, FlowOptions
    from .discovery import Authority
    from .egress import Egress
    from .http import Http
    from .urls import FeedRef

R = TypeVar("R")


def refuse_plain_http(ref: FeedRef) -> None:
    """`allow_http` covers only a static token the user configured for that host: an Entra
    token, a session token or a PAT never goes over plain http (AuthenticationFailed, no request)."""
    if ref.scheme != "https":
        raise AuthenticationFailed(
            f"{ref.origin} is plain http: only a static token (token_env / token_file) is sent there, "
            "never an Entra token, session token or PAT; use https"
        )


def fix_hint(service_url: str, attempts: Sequence[tuple[str, str]] = ()) -> str:
    from .credentials.chain import fix_hint as hint

    return hint(service_url, attempts)


@dataclass(frozen=True)
class Grant:
    """An Entra token, the flow that produced it and the authority it was asked of."""

    token: AccessToken
    flow: str
    authority: Authority

    @cached_property
    def claims(self) -> Optional[dict[str, Any]]:
        from .claims import payload

        return payload(self.token.token)

    @property
    def app_only(self) -> bool:
        """Decided from the token's claims (a service principal signed in through `az` is one
        too); only a token that is not a JWT falls back on what the flow is meant for."""
        from .claims import is_app_only

        if self.claims is not None:
            return is_app_only(self.claims)
        from .credentials.registry import flow_class

        return flow_class(self.flow).service_identity

    @property
    def identity(self) -> dict[str, str]:
        """oid, appid, tid, upn of whoever the token was issued to (those the token carries)."""
        from .claims import identity

        return identity(self.claims) if self.claims is not None else {}


@dataclass
class SignIn:
    """The Entra side of one lookup; `attempts` collects every flow's one-line outcome."""

    resolution: Resolution
    ctx: Context
    attempts: list[tuple[str, str]] = field(default_factory=list)

    def options(self, tenant: Optional[str], authority_host: str) -> FlowOptions:
        from .credentials.base import FlowOptions

        settings, ref = self.resolution.settings, self.resolution.ref
        return FlowOptions(
            org=ref.org,
            tenant=tenant,
            authority_host=authority_host,
            client_id=settings.client_id,
            timeout=settings.timeout,
            interactive=self.ctx.interactive(settings.interactive),
            state_dir=self.ctx.state_dir(),
            environ=self.ctx.environ,
            token_env=settings.token_env,
            token_file=settings.token_file,
            service_url=ref.service,
            allow_imds="managed_identity" in settings.credential,
            login_hint=self.ctx.login_hint,
            egress=self.egress,
        )

    @cached_property
    def egress(self) -> Egress:
        """Where this lookup may send a credential: computed once, from trusted inputs only."""
        from .config.settings import entra_less
        from .credentials.azure_pipelines import IDENTITY_ENDPOINTS_VARIABLE
        from .egress import for_lookup
        from .inputs import unrecorded

        settings, ref = self.resolution.settings, self.resolution.ref
        environ = unrecorded(self.ctx.environ)
        return for_lookup(
            ref.origin,
            ref.org,
            entra=not entra_less(ref, settings),
            allow_http=settings.allow_http,
            authority_hosts=(settings.authority_host,),
            vssps_template=settings.vssps_url if settings.configured("vssps_url") else None,
            environ=environ,
            allow_imds="managed_identity" in settings.credential
            or bool(environ.get(IDENTITY_ENDPOINTS_VARIABLE)),
        )

    def http(self) -> Http:
        """The pooled HTTP client, bound to this lookup's egress."""
        return self.ctx.http(self.resolution.settings.timeout).bound(self.egress)

    def configured_options(self) -> FlowOptions:
        settings = self.resolution.settings
        return self.options(settings.tenant, settings.authority_host)

    def chain(self, options: Optional[FlowOptions] = None) -> list[str]:
        """Every credential name that would be tried, pass-through ones included (for `explain`)."""
        configured = list(self.resolution.settings.credential)
        if configured != ["auto"]:
            return configured
        from .credentials.chain import auto_chain

        return auto_chain(options or self.configured_options())

    def identity_inputs(self) -> dict[str, object]:
        """Every input that chooses the identity, stated by each flow that could run: those listed,
        or under `auto` every flow with a place in it. Not only those that would run now: which
        ones can run also depends on things no lookup records (a program on PATH, a terminal),
        and flows that sign in the same person share one part, so a secret obtained
        interactively is found again by a silent process. Read before `Context.decided()`, so
        the warm path sees every one of these inputs."""
        from .credentials.registry import AUTO, flow_class

        configured = self.resolution.settings.credential
        flows = AUTO if configured == ("auto",) else tuple(flow_class(name) for name in configured)
        options = self.configured_options()
        parts: dict[str, object] = {}
        for flow in flows:
            if flow.signs_in:
                inputs = flow.identity_inputs(options, self.ctx.note_file)
                if inputs:
                    parts[flow.identity_group or flow.name] = inputs
        return parts

    def failed(self, *, exhausted: bool = False) -> ChainFailed:
        """`exhausted`: no flow could run or answer, none was refused (see ChainFailed)."""
        ref = self.resolution.ref
        return ChainFailed(ref.org, self.attempts, fix_hint(ref.service, self.attempts), exhausted=exhausted)

    def authority(self) -> Authority:
        from .discovery import decide_authority
        from .urls import expand_vssps

        settings, ref = self.resolution.settings, self.resolution.ref
        try:
            vssps_url = expand_vssps(settings.vssps_url, ref.org)
        except ValueError as exc:
            raise AuthenticationFailed(f"vssps_url ({settings.source('vssps_url')}): {exc}") from None
        return decide_authority(
            host=ref.netloc,
            org=ref.org,
            feed_url=ref.feed_url(),
            tenant=settings.tenant,
            authority_host=settings.authority_host,
            authority_pinned=settings.configured("authority_host"),
            vssps_url=vssps_url,
            vssps_pinned=settings.configured("vssps_url"),
            configured_host=ref.kind == "configured",
            http=self.http,
            state=self.ctx.state_dir(),
        )

    def exchange(self, issue: Callable[[Grant], R]) -> R:
        """`issue(grant)` for the first flow whose token the organization accepts: `issue` raising
        TokenRefused (the exchange refused it) moves the chain on to the next flow."""
        issued: list[R] = []
        self.token(lambda grant: issued.append(issue(grant)))
        return issued[-1]

    def token(self, accept: Optional[Callable[[Grant], None]] = None) -> Grant:
        """An Entra token through the chain; ChainFailed listing every attempt when there is none.
        `accept` sees each flow's grant and may refuse it (TokenRefused): the next flow is tried."""
        from .config.settings import entra_less
        from .credentials.chain import build_flow, run, unavailable_reason
        from .credentials.registry import flow_class
        from .microsoft import ADO_SCOPE

        settings, ref = self.resolution.settings, self.resolution.ref
        refuse_plain_http(ref)
        if entra_less(ref, settings):
            raise AuthenticationFailed(
                f"no [artifacts host=...] section for {ref.netloc} sets tenant or authority_host, so no "
                "Entra token is sent there (Azure DevOps Server takes a PAT): set token_env or token_file "
                "in its section"
            )
        # Discovery will supply a tenant, so availability is judged as if one were known.
        hopeful = self.options(settings.tenant or "organizations", settings.authority_host)
        runnable = []
        for name in self.chain(hopeful):
            if not flow_class(name).signs_in:
                continue
            reason = (
                "not used: signing in again (login --force)"
                if (self.ctx.fresh_sign_in and name == "shared_cache")
                else unavailable_reason(name, hopeful)
            )
            if reason is None:
                runnable.append(name)
            else:
                self.attempts.append((name, reason))
        if not runnable:
            raise self.failed(exhausted=True)
        authority = self.authority()
        options = self.options(authority.tenant, authority.authority_host)
        flows = [build_flow(name, options) for name in runnable]

        def accepted(name: str, token: AccessToken) -> None:
            if accept is not None:
                accept(Grant(token, name, authority))

        try:
            flow, token = run(
                flows, self.resolution.ref.org, fix_hint(self.resolution.ref.service), ADO_SCOPE, accepted
            )
        except ChainFailed as exc:
            self.attempts.extend(exc.attempts)
            raise self.failed(exhausted=exc.exhausted) from None
        return Grant(token, flow, authority)
