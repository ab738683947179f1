"""Credential names, in the order `auto` considers them."""

from __future__ import annotations

ALL_NAMES: tuple[str, ...] = (
    "static",
    "azure_pipelines",
    "environment",
    "workload_identity",
    "managed_identity",
    "azure_cli",
    "azure_developer_cli",
    "azure_powershell",
    "shared_cache",
    "broker",
    "interactive_browser",
    "device_code",
)
