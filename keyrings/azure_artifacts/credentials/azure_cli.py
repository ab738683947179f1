"""`azure_cli`: the token of the account signed in with `az login`.

Availability is decided from options.environ's PATH; azure-identity then runs `az` found on
the process PATH (with stdin closed and a process timeout).
"""

from __future__ import annotations

from ._cli import CliFlow


class AzureCliFlow(CliFlow):
    """`az account get-access-token`, with `--tenant` only when a tenant is configured."""

    name = "azure_cli"
    executables = ("az",)
    credential = "AzureCliCredential"
    config_dir = ("AZURE_CONFIG_DIR", ".azure")
    auto = 6  # after shared_cache, as in DefaultAzureCredential


unavailable_reason = AzureCliFlow.unavailable
