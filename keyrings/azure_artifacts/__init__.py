"""Keyring backend for Azure Artifacts feeds.

Importing this package stays cheap: the backend class is loaded on first access,
so tools that only scan entry points pay nothing for it.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["AzureArtifactsKeyring", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "AzureArtifactsKeyring":
        from .backend import AzureArtifactsKeyring

        return AzureArtifactsKeyring
    raise AttributeError(name)
