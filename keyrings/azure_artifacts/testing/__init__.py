"""A fake Microsoft Entra ID + Azure DevOps server for tests and offline demos.

Ships with the product so users can test their own tooling against it. Needs
only the standard library, ``trustme`` and ``cryptography``.
"""

from __future__ import annotations

from .entra import ADO_RESOURCE, ADO_SCOPE
from .records import DeviceUser, Fault, IssuedToken, RequestRecord, fingerprint
from .server import (
    AZURE_ARTIFACTS_CLIENT_ID,
    AZURE_CLI_CLIENT_ID,
    DEFAULT_TENANT,
    FakeAzure,
)
from .wheels import build_wheel, wheel_filename

__all__ = [
    "ADO_RESOURCE",
    "ADO_SCOPE",
    "AZURE_ARTIFACTS_CLIENT_ID",
    "AZURE_CLI_CLIENT_ID",
    "DEFAULT_TENANT",
    "DeviceUser",
    "FakeAzure",
    "Fault",
    "IssuedToken",
    "RequestRecord",
    "build_wheel",
    "fingerprint",
    "wheel_filename",
]
