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

# Service identities configured by name: the PAT lifecycle API refuses their tokens (Microsoft
# Learn, "Manage personal access tokens using API": service principals and managed identities
# cannot create or revoke PATs).
SERVICE_IDENTITIES = frozenset({"environment", "workload_identity", "managed_identity"})
