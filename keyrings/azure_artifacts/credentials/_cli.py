"""Developer CLIs (az, azd, pwsh): found on the PATH of the given environment, run through
azure-identity, and waited for no longer than `timeout` on every platform."""

from __future__ import annotations

import shutil
import sys
import time
from typing import Any

from ..errors import CredentialUnavailable
from ._bounded import GaveUp, call_bounded
from ._identity import process_timeout, request_token
from .base import AccessToken, Flow, FlowOptions


def find_executable(options: FlowOptions, *names: str) -> str | None:
    """The first of `names` found on options.environ's PATH (Windows adds .cmd/.exe via PATHEXT)."""
    path = options.environ.get("PATH")
    if path is None:
        return None
    for name in names:
        candidates = [name + ".cmd", name] if sys.platform.startswith("win") else [name]
        for candidate in candidates:
            found = shutil.which(candidate, path=path)
            if found:
                return found
    return None


# How long past the CLI's own process timeout we still wait for azure-identity to return.
GRACE = 2.0


class CliFlow(Flow):
    """A developer CLI's signed-in account through its azure-identity credential: runs only when
    the executable is on PATH, passes the tenant only when one is known, bounded by `timeout`."""

    name = ""
    executables: tuple[str, ...] = ()
    credential = ""  # the azure.identity class name

    @classmethod
    def unavailable(cls, options: FlowOptions) -> str | None:
        if find_executable(options, *cls.executables) is None:
            return f"`{cls.executables[0]}` is not on PATH"
        return None

    def fetch(self, scope: str) -> AccessToken:
        """azure-identity's process timeout first; then we stop waiting, because on Windows it
        kills only the `.cmd` wrapper and goes on reading pipes that the CLI's child keeps open."""
        seconds = process_timeout(self.options)
        started = time.monotonic()
        try:
            return call_bounded(lambda: request_token(self.name, self._build, scope), seconds + GRACE)
        except GaveUp:
            raise CredentialUnavailable(self._timed_out(seconds)) from None
        except CredentialUnavailable:
            if time.monotonic() - started >= seconds:  # azure-identity's "Failed to invoke" on a timeout
                raise CredentialUnavailable(self._timed_out(seconds)) from None
            raise

    def _timed_out(self, seconds: int) -> str:
        return f"`{self.executables[0]}` gave no answer within {seconds} s (the `timeout` setting)"

    def _build(self) -> Any:
        import azure.identity

        kwargs: dict[str, Any] = {"process_timeout": process_timeout(self.options)}
        if self.options.tenant:
            kwargs["tenant_id"] = self.options.tenant
        return getattr(azure.identity, self.credential)(**kwargs)
