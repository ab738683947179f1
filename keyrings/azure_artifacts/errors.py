"""The one error hierarchy: callers catch `AzureArtifactsError` and nothing wider."""

from __future__ import annotations


class AzureArtifactsError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(AzureArtifactsError):
    """The configuration is invalid; each message reads `<file>: [<section>] <option>: <problem>`."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages) if self.messages else "invalid configuration")


class CredentialUnavailable(AzureArtifactsError):
    """This flow cannot run here (nothing configured, no terminal, no cached account): try the next."""


class AuthenticationFailed(AzureArtifactsError):
    """A flow ran and was refused, or the service refused the exchange: stop and report."""


class ChainFailed(AuthenticationFailed):
    """Every flow of a chain was unavailable or failed; the message lists each attempt and the fix."""

    def __init__(
        self, org: str, attempts: list[tuple[str, str]], fix: str, *, exhausted: bool = False
    ) -> None:
        self.org = org
        self.attempts = list(attempts)
        self.fix = fix
        self.exhausted = exhausted  # True: every flow was unavailable; False: one was tried and failed
        tried = "; ".join(f"{name}: {reason}" for name, reason in attempts) or "no credential configured"
        super().__init__(f"no credential for Azure DevOps organization '{org}' ({tried}). {fix}")


class ServiceError(AzureArtifactsError):
    """Azure DevOps or Entra ID answered with something we cannot use (after retries)."""


class UntrustedCertificate(ServiceError):
    """A server's certificate did not verify: the host, the trust checked against and the fixes
    (tls.untrusted). Not a flow's failure: it ends the chain with its own message."""
