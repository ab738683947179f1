"""AzureArtifactsKeyring: keyring's contract and nothing else.

keyring imports this module for every lookup on the machine, so it imports only
the stdlib and keyring; all real work happens in `service`, loaded on first use
for a URL that is ours.
"""

from __future__ import annotations

from typing import Optional

from keyring.backend import KeyringBackend
from keyring.credentials import Credential, SimpleCredential


class AzureArtifactsKeyring(KeyringBackend):
    """Credentials for Azure Artifacts feeds; `None` for every other service."""

    priority = 9.9

    def get_credential(self, service: str, username: Optional[str]) -> Optional[Credential]:
        found = _lookup(service, username)
        return SimpleCredential(found[0], found[1]) if found else None

    def get_password(self, service: str, username: str) -> Optional[str]:
        credential = self.get_credential(service, username)
        return credential.password if credential else None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError("Azure Artifacts credentials are obtained, not stored")

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        try:
            from . import service as service_module

            forgotten = service_module.forget(service)
        except Exception as exc:
            from ._log import one_line

            raise PasswordDeleteError(one_line(exc)) from None
        if not forgotten:
            raise PasswordDeleteError("no Azure Artifacts credential cached for this service")


def _lookup(service: str, username: Optional[str]) -> Optional[tuple[str, str]]:
    """Never raises: an exception here would make pip disable keyring for the whole run."""
    try:
        from . import service as service_module

        return service_module.lookup(service, username)
    except Exception as exc:
        try:
            from ._log import get_logger, one_line

            get_logger().warning("%s", one_line(exc))
        except Exception:
            pass
        return None
