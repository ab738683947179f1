"""`workload_identity`: a federated token file (Kubernetes, GitHub OIDC) exchanged for an Entra token."""

from __future__ import annotations

from typing import Any

from ..errors import CredentialUnavailable
from ._identity import http_kwargs, request_token
from ._util import env_value
from .base import AccessToken, FlowOptions


def unavailable_reason(options: FlowOptions) -> str | None:
    """Why this flow cannot run, or None when a token file, client id and tenant are known."""
    env = options.environ
    if not env_value(env, "AZURE_FEDERATED_TOKEN_FILE"):
        return "AZURE_FEDERATED_TOKEN_FILE is not set"
    if not (options.client_id or env_value(env, "AZURE_CLIENT_ID")):
        return "AZURE_CLIENT_ID is not set"
    if not (options.tenant or env_value(env, "AZURE_TENANT_ID")):
        return "AZURE_TENANT_ID is not set"
    return None


class WorkloadIdentityFlow:
    """The configured client id and tenant win over AZURE_CLIENT_ID / AZURE_TENANT_ID."""

    name = "workload_identity"

    def __init__(self, options: FlowOptions) -> None:
        self.options = options

    def get_token(self, scope: str) -> AccessToken:
        reason = unavailable_reason(self.options)
        if reason:
            raise CredentialUnavailable(reason)
        return request_token(self.name, self._build, scope)

    def _build(self) -> Any:
        from azure.identity import WorkloadIdentityCredential

        env = self.options.environ
        return WorkloadIdentityCredential(
            tenant_id=self.options.tenant or env_value(env, "AZURE_TENANT_ID"),
            client_id=self.options.client_id or env_value(env, "AZURE_CLIENT_ID"),
            token_file_path=env_value(env, "AZURE_FEDERATED_TOKEN_FILE"),
            **http_kwargs(self.options),
        )
