"""`azure_cli`: the token of the account signed in with `az login`.

Availability is decided from options.environ's PATH; azure-identity then runs `az` found on
the process PATH (with stdin closed and a process timeout).
"""

from __future__ import annotations

from typing import Any

from ..errors import CredentialUnavailable
from ._cli import find_executable
from ._identity import process_timeout, request_token
from .base import AccessToken, FlowOptions


def unavailable_reason(options: FlowOptions) -> str | None:
    """Why this flow cannot run, or None when `az` is on the PATH."""
    if find_executable(options, "az") is None:
        return "`az` is not on PATH"
    return None


class AzureCliFlow:
    """`az account get-access-token`, with `--tenant` only when a tenant is configured."""

    name = "azure_cli"

    def __init__(self, options: FlowOptions) -> None:
        self.options = options

    def get_token(self, scope: str) -> AccessToken:
        reason = unavailable_reason(self.options)
        if reason:
            raise CredentialUnavailable(reason)
        return request_token(self.name, self._build, scope)

    def _build(self) -> Any:
        from azure.identity import AzureCliCredential

        kwargs: dict[str, Any] = {"process_timeout": process_timeout(self.options)}
        if self.options.tenant:
            kwargs["tenant_id"] = self.options.tenant
        return AzureCliCredential(**kwargs)
