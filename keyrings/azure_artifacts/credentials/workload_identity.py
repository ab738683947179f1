"""`workload_identity`: a federated token exchanged for an Entra token.

The federated token comes from `AZURE_FEDERATED_TOKEN_FILE` (Kubernetes, azure/login) or,
when that is not set, from the GitHub Actions OIDC endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`
with `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, job permission `id-token: write`).
"""

from __future__ import annotations

from typing import Any

from ..errors import AuthenticationFailed, AzureArtifactsError, UntrustedCertificate
from ._util import env_value, one_line
from .base import AccessToken, Flow, FlowOptions

TOKEN_FILE = "AZURE_FEDERATED_TOKEN_FILE"
GITHUB_URL = "ACTIONS_ID_TOKEN_REQUEST_URL"
GITHUB_TOKEN = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"


def source(options: FlowOptions) -> str | None:
    """Where the federated token comes from: "file", "github", or None."""
    env = options.environ
    if env_value(env, TOKEN_FILE):
        return "file"
    if env_value(env, GITHUB_URL) and env_value(env, GITHUB_TOKEN):
        return "github"
    return None


def unavailable_reason(options: FlowOptions) -> str | None:
    """Why this flow cannot run, or None when a federated token source, client id and tenant are known."""
    env = options.environ
    if source(options) is None:
        if env_value(env, GITHUB_URL):
            return f"{GITHUB_URL} is set but {GITHUB_TOKEN} is not (job needs `permissions: id-token: write`)"
        return f"neither {TOKEN_FILE} nor {GITHUB_URL} is set"
    if not (options.client_id or env_value(env, "AZURE_CLIENT_ID")):
        return "AZURE_CLIENT_ID is not set"
    if not (options.tenant or env_value(env, "AZURE_TENANT_ID")):
        return "AZURE_TENANT_ID is not set"
    return None


def read_token_file(path: str) -> str:
    """The federated token Kubernetes (or azure/login) keeps in the file; read for every request,
    since the platform rotates it."""
    try:
        with open(path, encoding="utf-8") as fh:
            token = fh.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthenticationFailed(f"cannot read {TOKEN_FILE}: {type(exc).__name__}") from None
    if not token:
        raise AuthenticationFailed(f"{TOKEN_FILE} is empty")
    return token


def github_token(http: Any, url: str, request_token: str) -> str:
    """Ask the Actions runtime for an ID token with the Entra federation audience."""
    if not url.lower().startswith("https://"):
        raise AuthenticationFailed(f"{GITHUB_URL} is not an https URL")
    try:
        response = http.get(
            url,
            params={"audience": FEDERATED_AUDIENCE},
            headers={"Authorization": f"bearer {request_token}", "Accept": "application/json"},
        )
    except UntrustedCertificate:
        raise  # its own message, whole (tls.py)
    except AzureArtifactsError as exc:
        raise AuthenticationFailed(f"GitHub OIDC token request: {one_line(exc)}") from None
    if response.status_code != 200:
        raise AuthenticationFailed(f"GitHub OIDC token request: HTTP {response.status_code}")
    try:
        value = response.json().get("value")
    except (ValueError, AttributeError):
        value = None
    if not isinstance(value, str) or not value:
        raise AuthenticationFailed("GitHub OIDC token request: no 'value' in the answer")
    return value


class WorkloadIdentityFlow(Flow):
    """The configured client id and tenant win over AZURE_CLIENT_ID / AZURE_TENANT_ID."""

    name = "workload_identity"

    unavailable = staticmethod(unavailable_reason)

    def fetch(self, scope: str) -> AccessToken:
        from ._confidential import confidential_token

        if source(self.options) == "file":
            assertion = read_token_file(env_value(self.options.environ, TOKEN_FILE) or "")
        else:
            assertion = self._github_assertion()
        tenant, client_id = self._ids()
        # A callable: msal deprecates a plain string assertion (it cannot be renewed).
        credential = {"client_assertion": lambda: assertion}
        return confidential_token(self.name, self.options, tenant, client_id, credential, scope)

    def _ids(self) -> tuple[str, str]:
        env = self.options.environ
        tenant = self.options.tenant or env_value(env, "AZURE_TENANT_ID") or ""
        client_id = self.options.client_id or env_value(env, "AZURE_CLIENT_ID") or ""
        return tenant, client_id

    def _github_assertion(self) -> str:
        from ..http import Http

        env = self.options.environ
        http = Http(timeout=self.options.timeout, retries=2)
        try:
            return github_token(http, env_value(env, GITHUB_URL) or "", env_value(env, GITHUB_TOKEN) or "")
        finally:
            http.close()
