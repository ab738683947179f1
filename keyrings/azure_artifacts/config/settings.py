"""Resolved settings for one feed: typed values and where each came from (stdlib only)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from ..microsoft import PUBLIC_AUTHORITY_HOST

if TYPE_CHECKING:
    from ..urls import FeedRef

# Every option a section may set, in the order `explain` lists them.
OPTION_NAMES: tuple[str, ...] = (
    "auth",
    "credential",
    "tenant",
    "authority_host",
    "client_id",
    "scopes",
    "pat_duration",
    "pat_renew_before",
    "session_duration",
    "username",
    "interactive",
    "token_env",
    "token_file",
    "vssps_url",
    "timeout",
    "ca_bundle",
    "path_prefix",
    "allow_http",
)


@dataclass(frozen=True)
class Settings:
    """One value per option (defaults filled in) and, in `sources`, the section name as written,
    `env:VAR` or `default` it came from."""

    auth: str = "session"
    credential: tuple[str, ...] = ("auto",)
    tenant: Optional[str] = None
    authority_host: str = PUBLIC_AUTHORITY_HOST
    client_id: Optional[str] = None
    scopes: tuple[str, ...] = ("vso.packaging",)
    pat_duration: int = 30 * 86400
    pat_renew_before: int = 3 * 86400
    session_duration: int = 4 * 3600
    username: str = "VssSessionToken"
    interactive: str = "auto"
    token_env: str = "AZURE_DEVOPS_EXT_PAT"
    token_file: Optional[str] = None
    vssps_url: str = ""
    timeout: float = 20.0
    ca_bundle: Optional[str] = None
    path_prefix: str = ""
    allow_http: bool = False
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    # True when an applicable `host` section itself sets tenant or authority_host (entra_less).
    host_sets_entra: bool = False

    def items(self) -> Iterator[tuple[str, Any]]:
        """(option, value) in the documented order."""
        for name in OPTION_NAMES:
            yield name, getattr(self, name)

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")

    def configured(self, name: str) -> bool:
        """True when a section or a variable set the option (not the built-in default)."""
        return self.source(name) != "default"

    def override(self, name: str, value: Any, source: str) -> Settings:
        """A copy with one option replaced (the CLI's `interactive = always`, for example)."""
        return dataclasses.replace(self, **{name: value}, sources={**self.sources, name: source})


def entra_less(ref: FeedRef, settings: Settings) -> bool:
    """A host a `host` section declares, where no `host` section itself sets tenant or
    authority_host: Azure DevOps Server answers with NTLM/Negotiate/Basic, never an Entra
    authority, so no Entra token is ever sent there, whatever the root section, an `org` section
    or AZURE_AUTHORITY_HOST say (they speak for Azure DevOps Services); a PAT (`token_env` /
    `token_file`) is the credential."""
    return ref.kind == "configured" and not settings.host_sets_entra


def cannot_work(settings: Settings) -> Optional[str]:
    """Why these settings can never give a secret (said by check, explain and the lookup), or None."""
    if settings.auth != "pat" or settings.credential == ("auto",):
        return None
    from ..credentials.registry import SERVICE_IDENTITIES

    if not set(settings.credential) <= SERVICE_IDENTITIES:
        return None
    return (
        f"auth = pat cannot work with credential = {', '.join(settings.credential)}: Azure DevOps does "
        "not let service principals or managed identities create PATs; use auth = session (or bearer)"
    )


def session_capped(auth: str, session_duration: Optional[int]) -> Optional[str]:
    """What `check` and `explain` say when `session_duration` asks for more than a session token
    can live, or None."""
    from ..microsoft import SESSION_TOKEN_MAX_LIFETIME

    if auth != "session" or session_duration is None or session_duration <= SESSION_TOKEN_MAX_LIFETIME:
        return None
    return (
        "session_duration is longer than 24 hours: session tokens live 24 hours at most, "
        "so 24 hours is asked for"
    )
