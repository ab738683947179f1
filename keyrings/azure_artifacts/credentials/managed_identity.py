"""`managed_identity`: App Service / Functions / Arc / Cloud Shell / AKS pod identity endpoints,
and IMDS on an Azure VM when the configuration names this credential explicitly.

In the `auto` chain it only runs when an endpoint variable says where the identity endpoint
is: without one the libraries would ask IMDS at 169.254.169.254, which `auto` never does
(`options.allow_imds` is set only for an explicit `credential = managed_identity`). msal and
azure-identity read the endpoint from the process environment themselves, so the variables in
`options.environ` must match `os.environ`; otherwise the flow refuses rather than let the
library fall back to IMDS.

msal's ManagedIdentityClient serves App Service, Azure Arc, Azure ML and IMDS (pod identity
too). azure-identity stays for the two endpoints msal's client does not serve with our HTTP
client: Cloud Shell (not a managed-identity source in msal) and Service Fabric (msal insists on
a requests.Session of its own there).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import CredentialUnavailable
from ..microsoft import ADO_RESOURCE
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
SERVICE_FABRIC = "Service Fabric"
CLOUD_SHELL = "Cloud Shell"
POD_IDENTITY = "pod identity (IMDS at AZURE_POD_IDENTITY_AUTHORITY_HOST)"


def endpoint_kind(environ: Mapping[str, str]) -> str | None:
    """Which managed identity endpoint the variables describe; None means none (IMDS is never probed)."""
    if env_value(environ, "IDENTITY_ENDPOINT"):
        if env_value(environ, "IDENTITY_HEADER"):
            if env_value(environ, "IDENTITY_SERVER_THUMBPRINT"):
                return SERVICE_FABRIC
            return "App Service"
        if env_value(environ, "IMDS_ENDPOINT"):
            return "Azure Arc"
        return None
    if env_value(environ, "MSI_ENDPOINT"):
        return "Azure ML" if env_value(environ, "MSI_SECRET") else CLOUD_SHELL
    if env_value(environ, "AZURE_POD_IDENTITY_AUTHORITY_HOST"):
        return POD_IDENTITY
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
    service_identity = True
    auto = 4

    unavailable = staticmethod(unavailable_reason)

    @classmethod
    def in_auto(cls, options: FlowOptions) -> bool:
        return unavailable_reason(replace(options, allow_imds=False)) is None  # `auto` never probes IMDS

    @classmethod
    def identity_inputs(cls, options: FlowOptions, note_file: Callable[[Path], None]) -> dict[str, object]:
        """The user-assigned identity's client id (None: system-assigned) and the endpoint serving it."""
        if unavailable_reason(options) is not None:
            return {}
        env = options.environ
        endpoint = env_value(env, "IDENTITY_ENDPOINT") or env_value(env, "MSI_ENDPOINT")
        return {"client_id": options.client_id, "kind": endpoint_kind(env), "endpoint": endpoint}

    def fetch(self, scope: str) -> AccessToken:
        if not _process_env_matches(self.options.environ, self.options.allow_imds):
            raise CredentialUnavailable(
                "managed identity endpoint variables differ from the process environment"
            )
        kind = endpoint_kind(self.options.environ)
        if kind in (SERVICE_FABRIC, CLOUD_SHELL):
            from ._identity import request_token

            return request_token(self.name, self._azure_identity, scope)
        from ._confidential import managed_identity_token

        resource = scope[: -len("/.default")] if scope.endswith("/.default") else scope
        return managed_identity_token(
            self.options, resource or ADO_RESOURCE, self.options.client_id, imds=kind in (None, POD_IDENTITY)
        )

    def _azure_identity(self) -> Any:
        from azure.identity import ManagedIdentityCredential

        from ._identity import RETRY_TOTAL, gated_transport

        kwargs: dict[str, Any] = {
            "connection_timeout": self.options.timeout,
            "read_timeout": self.options.timeout,
            "retry_total": RETRY_TOTAL,
        }
        return ManagedIdentityCredential(
            client_id=self.options.client_id or None,
            # Service Fabric's cluster certificate is checked by thumbprint with verify=False, which
            # our shared trust refuses: that endpoint keeps requests' own verification, still gated.
            transport=gated_transport(
                self.options, kwargs, own_trust=endpoint_kind(self.options.environ) != SERVICE_FABRIC
            ),
            **kwargs,
        )
