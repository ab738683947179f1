"""Developer CLIs (az, azd, pwsh): found on the PATH of the given environment, run through
azure-identity, and waited for no longer than `timeout` on every platform."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import AuthenticationFailed, CredentialUnavailable
from ._bounded import GaveUp, call_bounded
from ._identity import process_timeout, request_token
from ._util import env_value, one_line
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
    the executable is on PATH, passes the tenant only when one is known, bounded by `timeout`.

    Whatever goes wrong in the CLI (not installed, not logged in, an expired login, MFA or any
    AADSTS error, a timeout) makes it unavailable and the chain goes on, as inside
    azure-identity's DefaultAzureCredential (its CLI credentials raise CredentialUnavailableError
    there, azure-identity `_credentials/azure_cli.py`)."""

    name = ""
    executables: tuple[str, ...] = ()
    credential = ""  # the azure.identity class name
    # Where the CLI keeps its sign-in: (the variable that moves it, the default under the home).
    config_dir: tuple[str, str] = ("", "")

    @classmethod
    def unavailable(cls, options: FlowOptions) -> str | None:
        if find_executable(options, *cls.executables) is None:
            return f"`{cls.executables[0]}` is not on PATH"
        return None

    @classmethod
    def identity_inputs(cls, options: FlowOptions, note_file: Callable[[Path], None]) -> dict[str, object]:
        """The CLI's configuration directory: another directory is another sign-in. Not tied to
        whether the CLI is on PATH (a program appearing on PATH is not a recorded input)."""
        variable, default = cls.config_dir
        env = options.environ
        chosen = env_value(env, variable) if variable else None
        if chosen is None:
            home = env_value(env, "USERPROFILE" if sys.platform.startswith("win") else "HOME")
            chosen = os.path.join(home, default) if home else None
        return {"config_dir": chosen}

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
        except AuthenticationFailed as exc:  # a failing CLI is unavailable: the chain goes on
            raise CredentialUnavailable(one_line(exc)) from None

    def _timed_out(self, seconds: int) -> str:
        return f"`{self.executables[0]}` gave no answer within {seconds} s (the `timeout` setting)"

    def _build(self) -> Any:
        import azure.identity

        kwargs: dict[str, Any] = {"process_timeout": process_timeout(self.options)}
        if self.options.tenant:
            kwargs["tenant_id"] = self.options.tenant
        return getattr(azure.identity, self.credential)(**kwargs)
