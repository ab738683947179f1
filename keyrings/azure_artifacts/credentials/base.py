"""The small interface every flow implements, and the plain values flows are built from.

Flows never read the configuration: `FlowOptions` carries the few values they need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Protocol

from ..microsoft import PUBLIC_AUTHORITY_HOST

if TYPE_CHECKING:
    from ..egress import Egress


@dataclass(frozen=True)
class AccessToken:
    """An Entra ID (or pass-through) token and its expiry in epoch seconds."""

    token: str
    expires_on: int
    # Pass-through flows only: the username that belongs with the secret (Azure Pipelines endpoints).
    username: str | None = None

    def __repr__(self) -> str:
        from .._log import fingerprint

        user = f", username={self.username!r}" if self.username is not None else ""
        return f"AccessToken({fingerprint(self.token)}, expires_on={self.expires_on}{user})"


@dataclass(frozen=True)
class FlowOptions:
    """Everything a flow may need, as plain values resolved by the service layer."""

    org: str
    tenant: str | None = None
    authority_host: str = PUBLIC_AUTHORITY_HOST
    client_id: str | None = None
    timeout: float = 20.0
    interactive: bool = False
    state_dir: Path | None = None  # where the MSAL cache and other state live
    environ: Mapping[str, str] = field(default_factory=dict)
    token_env: str = "AZURE_DEVOPS_EXT_PAT"
    token_file: str | None = None
    service_url: str = ""  # the feed URL being served (azure_pipelines matches endpoints on it)
    login_hint: str | None = None  # user sign-in: which cached account / which user to suggest
    interactive_timeout: float = 300.0  # longest wait for a person (device code, browser, broker)
    # Managed identity may ask IMDS (169.254.169.254) only when the config names it explicitly:
    # `auto` never probes (docs/design.md), but `credential = managed_identity` on an Azure VM must.
    allow_imds: bool = False
    # Where the lookup may send credentials (`egress.py`); None: a flow run on its own, which may
    # reach only its authority and the endpoints its variables name (`gate`).
    egress: Optional[Egress] = field(default=None, compare=False, repr=False)

    def gate(self) -> Egress:
        if self.egress is not None:
            return self.egress
        from ..egress import for_flow

        return for_flow(self.authority_host, self.environ, self.allow_imds)


class TokenFlow(Protocol):
    """One way to an Entra token. Raise CredentialUnavailable to pass, AuthenticationFailed to stop."""

    name: str

    def get_token(self, scope: str) -> AccessToken: ...


class Flow:
    """The common shape: built from plain options; a flow that cannot run here says why
    (`unavailable`, pure) and passes, before `fetch` does any work."""

    name = ""

    def __init__(self, options: FlowOptions) -> None:
        self.options = options

    @staticmethod
    def unavailable(options: FlowOptions) -> str | None:
        return None

    def get_token(self, scope: str) -> AccessToken:
        reason = self.unavailable(self.options)
        if reason:
            from ..errors import CredentialUnavailable

            raise CredentialUnavailable(reason)
        return self.fetch(scope)

    def fetch(self, scope: str) -> AccessToken:
        raise NotImplementedError
