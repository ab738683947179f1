"""`managed_identity`: App Service / Functions / Arc / Cloud Shell / AKS pod identity endpoints,
and IMDS on an Azure VM when the configuration names this credential explicitly.

In the `auto` chain it only runs when an endpoint variable says where the identity endpoint
is: without one azure-identity would probe IMDS at 169.254.169.254, which `auto` never does
(`options.allow_imds` is set only for an explicit `credential = managed_identity`). azure-identity and msal
read the endpoint from the process environment themselves, so the variables in
`options.environ` must match `os.environ`; otherwise the flow refuses rather than let the
library fall back to IMDS.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..errors import CredentialUnavailable
from ._identity import RETRY_TOTAL, request_token
from ._util import env_value
from .base import AccessToken, Flow, FlowOptions

ENDPOINT_VARIABLES = (
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
)


def endpoint_kind(environ: Mapping[str, str]) -> str | None:
    """Which managed identity endpoint the variables describe; None means none (IMDS is never probed)."""
    if env_value(environ, "IDENTITY_ENDPOINT"):
        if env_value(environ, "IDENTITY_HEADER"):
            if env_value(environ, "IDENTITY_SERVER_THUMBPRINT"):
                return "Service Fabric"
            return "App Service"
        if env_value(environ, "IMDS_ENDPOINT"):
            return "Azure Arc"
        return None
    if env_value(environ, "MSI_ENDPOINT"):
        return "Azure ML" if env_value(environ, "MSI_SECRET") else "Cloud Shell"
    if env_value(environ, "AZURE_POD_IDENTITY_AUTHORITY_HOST"):
        return "pod identity (IMDS at AZURE_POD_IDENTITY_AUTHORITY_HOST)"
    return None


def unavailable_reason(options: FlowOptions) -> str | None:
    """Why this flow cannot run, or None when an endpoint variable is set or IMDS is allowed."""
    if endpoint_kind(options.environ) is None and not options.allow_imds:
        return "no managed identity endpoint variable is set (IMDS is not probed)"
    return None


def _process_env_matches(environ: Mapping[str, str], allow_imds: bool) -> bool:
    wanted = {name: env_value(environ, name) for name in ENDPOINT_VARIABLES}
    actual = {name: env_value(os.environ, name) for name in ENDPOINT_VARIABLES}
    return wanted == actual and (allow_imds or endpoint_kind(os.environ) is not None)


class ManagedIdentityFlow(Flow):
    """System-assigned identity, or the user-assigned one named by `options.client_id`."""

    name = "managed_identity"

    unavailable = staticmethod(unavailable_reason)

    def fetch(self, scope: str) -> AccessToken:
        if not _process_env_matches(self.options.environ, self.options.allow_imds):
            raise CredentialUnavailable(
                "managed identity endpoint variables differ from the process environment"
            )
        return request_token(self.name, self._build, scope)

    def _build(self) -> Any:
        from azure.identity import ManagedIdentityCredential

        return ManagedIdentityCredential(
            client_id=self.options.client_id or None,
            connection_timeout=self.options.timeout,
            read_timeout=self.options.timeout,
            retry_total=RETRY_TOTAL,
        )
