"""`azure_developer_cli`: the token of the account signed in with `azd auth login`."""

from __future__ import annotations

from ._cli import CliFlow


class AzureDeveloperCliFlow(CliFlow):
    """`azd auth token`, with `--tenant-id` only when a tenant is configured."""

    name = "azure_developer_cli"
    executables = ("azd",)
    credential = "AzureDeveloperCliCredential"
    config_dir = ("AZD_CONFIG_DIR", ".azd")


unavailable_reason = AzureDeveloperCliFlow.unavailable
