"""`azure_powershell`: the token of the account signed in with `Connect-AzAccount`."""

from __future__ import annotations

import sys
from typing import Any

from ..errors import CredentialUnavailable
from ._cli import find_executable
from ._identity import process_timeout, request_token
from .base import AccessToken, FlowOptions


def unavailable_reason(options: FlowOptions) -> str | None:
    """Why this flow cannot run, or None when PowerShell (pwsh; powershell on Windows) is on the PATH."""
    names = ("pwsh", "powershell") if sys.platform.startswith("win") else ("pwsh",)
    if find_executable(options, *names) is None:
        return "`pwsh` is not on PATH"
    return None


class AzurePowerShellFlow:
    """Get-AzAccessToken through azure-identity, with the tenant only when one is configured."""

    name = "azure_powershell"

    def __init__(self, options: FlowOptions) -> None:
        self.options = options

    def get_token(self, scope: str) -> AccessToken:
        reason = unavailable_reason(self.options)
        if reason:
            raise CredentialUnavailable(reason)
        return request_token(self.name, self._build, scope)

    def _build(self) -> Any:
        from azure.identity import AzurePowerShellCredential

        kwargs: dict[str, Any] = {"process_timeout": process_timeout(self.options)}
        if self.options.tenant:
            kwargs["tenant_id"] = self.options.tenant
        return AzurePowerShellCredential(**kwargs)
