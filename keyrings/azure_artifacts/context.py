"""What a lookup runs with: its environment, clock and terminal, and the state and HTTP clients
shared by every step. Tests pass their own environment, clock and terminal answer."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from .cache import SecretCache
    from .http import Http
    from .inputs import Inputs
    from .pat.store import PatStore

CI_VARIABLES = ("CI", "TF_BUILD", "GITHUB_ACTIONS")
# One HTTP client per timeout, trust and proxy settings for the whole process: lookups for
# several feeds (pip asks for each index) reuse its connections.
_POOL: dict[tuple[Any, ...], Http] = {}


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


@dataclass
class Context:
    """One per process (or per test): lookups for several feeds share its HTTP connections."""

    environ: Mapping[str, str]
    now: Callable[[], float] = time.time
    stderr_isatty: Optional[bool] = None
    inputs: Optional[Inputs] = None  # set by the lookup that records what it reads
    checkpoint: Optional[dict[str, Any]] = None  # the inputs that decided which cache entry to read
    login_hint: Optional[str] = None  # `login --account`: the user to sign in as
    fresh_sign_in: bool = False  # `login --force`: no silent sign-in from the cached account
    _http: dict[tuple[Any, ...], Http] = field(default_factory=lambda: _POOL, repr=False)
    # The current lookup's `ca_bundle`: its feed origin -> the bundle (see `use_ca_bundle`).
    _pinned: dict[str, str] = field(default_factory=dict, repr=False)
    _pats: Optional[PatStore] = field(default=None, repr=False)
    _state: Optional[Path] = field(default=None, repr=False)

    def interactive(self, setting: str) -> bool:
        return is_interactive(setting, self.environ, self.stderr_isatty)

    def state_dir(self) -> Path:
        """The state directory, checked once: raises UntrustedState when others can change it."""
        if self._state is None:
            from .cache import state_dir
            from .statefs import check_trusted

            state = state_dir(self.environ)
            check_trusted(state)
            self._state = state
        return self._state

    def secret_cache(self) -> SecretCache:
        from .cache import SecretCache

        return SecretCache(self.state_dir() / "secrets", now=self.now)

    def pat_store(self) -> PatStore:
        if self._pats is None:
            from .pat.store import PatStore

            self._pats = PatStore(self.state_dir() / "pats")
        return self._pats

    def use_ca_bundle(self, feed_url: str, bundle: Optional[str]) -> None:
        """Requests to the feed's origin are verified with `bundle` (a section's `ca_bundle`), or
        with the trust every other request gets when None; set per lookup."""
        self._pinned.clear()
        if bundle:
            from .tls import origin_key

            self._pinned[origin_key(feed_url)] = bundle

    def http(self, timeout: float) -> Http:
        from .tls import environ_key

        pinned = tuple(sorted(self._pinned.items()))
        key = (timeout, environ_key(os.environ), pinned)
        if key not in self._http:
            from .http import Http
            from .tls import bundle_trust

            trusts = {where: bundle_trust(path) for where, path in pinned}
            self._http[key] = Http(timeout=timeout, pinned=trusts)
        return self._http[key]

    def note_file(self, path: Path) -> None:
        """The answer depends on this file: the warm path must see it unchanged."""
        if self.inputs is not None:
            self.inputs.note_file(path)

    def decided(self) -> None:
        """Everything read so far chose the cache entry; later reads (sign-in) do not."""
        if self.inputs is not None:
            self.checkpoint = self.inputs.snapshot()
