"""The small interface every flow implements, and the plain values flows are built from.

Flows never read the configuration: `FlowOptions` carries the few values they need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, ClassVar, Optional, Protocol

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

    @property
    def name(self) -> str: ...

    def get_token(self, scope: str) -> AccessToken: ...


class Flow:
    """The common shape: built from plain options; a flow that cannot run here says why
    (`unavailable`, pure) and passes, before `fetch` does any work.

    Each flow class also states its traits, which the registry (`registry.py`), the `auto`
    chain, the pass-through step and the secret-cache key read from it.
    """

    name: ClassVar[str] = ""
    # Signs in as an application (no person): the PAT API refuses such tokens. A prediction from
    # the configuration only; a lookup decides from the token's claims (`claims.is_app_only`).
    service_identity: ClassVar[bool] = False
    # Hands over a credential configured in the environment as it is (`passthrough.py`).
    hands_over: ClassVar[bool] = False
    # Obtains an Entra token (False: only ever hands over).
    signs_in: ClassVar[bool] = True
    # Place in `credential = auto` (lower first); None: only when the configuration names it.
    auto: ClassVar[Optional[int]] = None
    # Asks a person: `auto` takes only the first of these that can run, and only when interactive.
    asks_person: ClassVar[bool] = False
    # Flows that sign in as the same identity share a group, hence a cache-key part: a secret
    # obtained interactively is found again by the silent flow of the same account.
    identity_group: ClassVar[str] = ""

    def __init__(self, options: FlowOptions) -> None:
        self.options = options

    @staticmethod
    def unavailable(options: FlowOptions) -> str | None:
        return None

    @classmethod
    def in_auto(cls, options: FlowOptions) -> bool:
        """Whether `auto` tries this flow for these options (its availability, by default)."""
        return cls.unavailable(options) is None

    @classmethod
    def identity_inputs(cls, options: FlowOptions, note_file: Callable[[Path], None]) -> dict[str, object]:
        """What chooses the identity this flow would sign in as, read from `options` (the lookup's
        recording environment) with no process and no request; `note_file` records a file it
        depends on. Part of the secret-cache key; empty when it contributes nothing."""
        return {}

    def get_token(self, scope: str) -> AccessToken:
        reason = self.unavailable(self.options)
        if reason:
            from ..errors import CredentialUnavailable

            raise CredentialUnavailable(reason)
        return self.fetch(scope)

    def fetch(self, scope: str) -> AccessToken:
        raise NotImplementedError
