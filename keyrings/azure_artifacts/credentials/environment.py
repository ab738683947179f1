"""`environment`: a service principal described by AZURE_* variables (secret or certificate).

azure-identity's EnvironmentCredential reads os.environ itself; we build the client secret /
certificate credential from `options.environ` instead, so the caller decides the environment.
"""

from __future__ import annotations

from typing import Any

from ._identity import http_kwargs, request_token
from ._util import env_value
from .base import AccessToken, Flow, FlowOptions


def unavailable_reason(options: FlowOptions) -> str | None:
    """Why this flow cannot run, or None when the variables it needs are set."""
    env = options.environ
    if not env_value(env, "AZURE_CLIENT_ID"):
        return "AZURE_CLIENT_ID is not set"
    if not (options.tenant or env_value(env, "AZURE_TENANT_ID")):
        return "AZURE_TENANT_ID is not set"
    if not (env_value(env, "AZURE_CLIENT_SECRET") or env_value(env, "AZURE_CLIENT_CERTIFICATE_PATH")):
        return "neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH is set"
    return None


class EnvironmentFlow(Flow):
    """Client secret or certificate from the environment; the org's tenant wins over AZURE_TENANT_ID."""

    name = "environment"

    unavailable = staticmethod(unavailable_reason)

    def fetch(self, scope: str) -> AccessToken:
        return request_token(self.name, self._build, scope)

    def _build(self) -> Any:
        from azure.identity import CertificateCredential, ClientSecretCredential

        env = self.options.environ
        # unavailable_reason() has checked that these are set.
        tenant = self.options.tenant or env_value(env, "AZURE_TENANT_ID") or ""
        client_id = env_value(env, "AZURE_CLIENT_ID") or ""
        kwargs = http_kwargs(self.options)
        secret = env_value(env, "AZURE_CLIENT_SECRET")
        if secret:
            return ClientSecretCredential(tenant, client_id, secret, **kwargs)
        send_chain = (env_value(env, "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN") or "").lower()
        return CertificateCredential(
            tenant,
            client_id,
            env_value(env, "AZURE_CLIENT_CERTIFICATE_PATH") or "",
            password=env.get("AZURE_CLIENT_CERTIFICATE_PASSWORD") or None,
            send_certificate_chain=send_chain in ("1", "true"),
            **kwargs,
        )
