"""`azure_powershell`: the token of the account signed in with `Connect-AzAccount`."""

from __future__ import annotations

import sys

from ._cli import CliFlow


class AzurePowerShellFlow(CliFlow):
    """Get-AzAccessToken through azure-identity, with the tenant only when one is configured."""

    name = "azure_powershell"
    executables = ("pwsh", "powershell") if sys.platform.startswith("win") else ("pwsh",)
    credential = "AzurePowerShellCredential"
    config_dir = ("", ".Azure")  # Az.Accounts keeps its contexts in ~/.Azure


unavailable_reason = AzurePowerShellFlow.unavailable
