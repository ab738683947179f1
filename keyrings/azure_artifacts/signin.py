"""Resolved settings -> an Entra ID token: which flows run, where to sign in, and the chain run.

Flows that cannot run here are ruled out before the discovery request, so a CI job with no
credential fails without touching the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from .credentials.names import SERVICE_IDENTITIES
from .errors import AuthenticationFailed, ChainFailed

if TYPE_CHECKING:
    from .config.resolve import Resolution
    from .context import Context
    from .credentials.base import AccessToken, FlowOptions
    from .discovery import Authority
    from .urls import FeedRef

# Handed over as they are (passthrough.py); never exchanged, never part of the Entra chain.
PASS_THROUGH = ("static",)
# Flows that sign in as a service identity (azure_pipelines: a service connection's federation).
APP_ONLY = SERVICE_IDENTITIES | {"azure_pipelines"}


def refuse_plain_http(ref: FeedRef) -> None:
    """`allow_http` covers only a static token the user configured for that host: an Entra
    token, a session token or a PAT never goes over plain http (AuthenticationFailed, no request)."""
    if ref.scheme != "https":
        raise AuthenticationFailed(
            f"{ref.origin} is plain http: only a static token (token_env / token_file) is sent there, "
            "never an Entra token, session token or PAT; use https"
        )


def fix_hint(service_url: str) -> str:
    from .credentials.chain import fix_hint as hint

    return hint(service_url)


@dataclass(frozen=True)
class Grant:
    """An Entra token, the flow that produced it and the authority it was asked of."""

    token: AccessToken
    flow: str
    authority: Authority

    @property
    def app_only(self) -> bool:
        return self.flow in APP_ONLY


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
        )

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

    def failed(self, *, exhausted: bool = False) -> ChainFailed:
        """`exhausted`: no flow could run or answer, none was refused (see ChainFailed)."""
        ref = self.resolution.ref
        return ChainFailed(ref.org, self.attempts, fix_hint(ref.service), exhausted=exhausted)

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
            http=lambda: self.ctx.http(settings.timeout),
            state=self.ctx.state_dir(),
        )

    def token(self) -> Grant:
        """An Entra token through the chain; ChainFailed listing every attempt when there is none."""
        from .config.settings import entra_less
        from .credentials.chain import build_flow, run, unavailable_reason
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
            if name in PASS_THROUGH:
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
        try:
            flow, token = run(
                flows, self.resolution.ref.org, fix_hint(self.resolution.ref.service), ADO_SCOPE
            )
        except ChainFailed as exc:
            self.attempts.extend(exc.attempts)
            raise self.failed(exhausted=exc.exhausted) from None
        return Grant(token, flow, authority)
