"""Finding developer CLIs on the PATH of the given environment (no process is started)."""

from __future__ import annotations

import shutil
import sys
from typing import Any

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
        return request_token(self.name, self._build, scope)

    def _build(self) -> Any:
        import azure.identity

        kwargs: dict[str, Any] = {"process_timeout": process_timeout(self.options)}
        if self.options.tenant:
            kwargs["tenant_id"] = self.options.tenant
        return getattr(azure.identity, self.credential)(**kwargs)
