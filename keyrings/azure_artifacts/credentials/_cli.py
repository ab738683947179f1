"""Finding developer CLIs on the PATH of the given environment (no process is started)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import AuthenticationFailed, CredentialUnavailable
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
        try:
            return request_token(self.name, self._build, scope)
        except AuthenticationFailed as exc:
            raise CredentialUnavailable(one_line(exc)) from None

    def _build(self) -> Any:
        import azure.identity

        kwargs: dict[str, Any] = {"process_timeout": process_timeout(self.options)}
        if self.options.tenant:
            kwargs["tenant_id"] = self.options.tenant
        return getattr(azure.identity, self.credential)(**kwargs)
