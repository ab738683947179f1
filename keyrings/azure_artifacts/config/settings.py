"""Resolved settings for one feed: typed values and where each came from (stdlib only)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Optional

from .table import DEFAULTS, OPTION_NAMES, OptionTable

if TYPE_CHECKING:
    from ..urls import FeedRef

__all__ = ["OPTION_NAMES", "Settings", "cannot_work", "entra_less"]


class Settings(OptionTable):
    """One value per option (defaults filled in) and, in `sources`, the section name as written,
    `env:VAR` or `default` it came from.

    The options' names, types and defaults are the rows of `table.OptionTable`; an instance
    keeps its values in its `__dict__` (which wins over the rows) and cannot be changed."""

    sources: Mapping[str, str]
    # True when an applicable `host` section itself sets tenant or authority_host (entra_less).
    host_sets_entra: bool

    def __init__(
        self, *, sources: Optional[Mapping[str, str]] = None, host_sets_entra: bool = False, **options: Any
    ) -> None:
        unknown = set(options) - set(DEFAULTS)
        if unknown:
            raise TypeError(f"unknown option {', '.join(sorted(unknown))}")
        state = self.__dict__
        state.update(DEFAULTS)
        state.update(options)
        state["sources"] = dict(sources or {})
        state["host_sets_entra"] = host_sets_entra

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Settings are read-only: use override() to change {name}")

    def __eq__(self, other: object) -> bool:
        """Equal values (where they came from does not count)."""
        if not isinstance(other, Settings):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Settings({', '.join(f'{name}={value!r}' for name, value in self.items())})"

    def _key(self) -> tuple[Any, ...]:
        return (*(value for _, value in self.items()), self.host_sets_entra)

    def items(self) -> Iterator[tuple[str, Any]]:
        """(option, value) in the documented order."""
        for name in OPTION_NAMES:
            yield name, self.__dict__[name]

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")

    def configured(self, name: str) -> bool:
        """True when a section or a variable set the option (not the built-in default)."""
        return self.source(name) != "default"

    def override(self, name: str, value: Any, source: str) -> Settings:
        """A copy with one option replaced (the CLI's `interactive = always`, for example)."""
        return Settings(
            **{**dict(self.items()), name: value},
            sources={**self.sources, name: source},
            host_sets_entra=self.host_sets_entra,
        )


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
