"""`azure_developer_cli`: the token of the account signed in with `azd auth login`."""

from __future__ import annotations

from typing import Any

from ..errors import CredentialUnavailable
from ._cli import find_executable
from ._identity import process_timeout, request_token
from .base import AccessToken, FlowOptions


def unavailable_reason(options: FlowOptions) -> str | None:
    """Why this flow cannot run, or None when `azd` is on the PATH."""
    if find_executable(options, "azd") is None:
        return "`azd` is not on PATH"
    return None


class AzureDeveloperCliFlow:
    """`azd auth token`, with `--tenant-id` only when a tenant is configured."""

    name = "azure_developer_cli"

    def __init__(self, options: FlowOptions) -> None:
        self.options = options

    def get_token(self, scope: str) -> AccessToken:
        reason = unavailable_reason(self.options)
        if reason:
            raise CredentialUnavailable(reason)
        return request_token(self.name, self._build, scope)

    def _build(self) -> Any:
        from azure.identity import AzureDeveloperCliCredential

        kwargs: dict[str, Any] = {"process_timeout": process_timeout(self.options)}
        if self.options.tenant:
            kwargs["tenant_id"] = self.options.tenant
        return AzureDeveloperCliCredential(**kwargs)
