"""AzureArtifactsKeyring: keyring's contract and nothing else.

keyring imports this module for every lookup on the machine, so it imports only
the stdlib and keyring; all real work happens in `service`, loaded on first use
for a URL that is ours.
"""

from __future__ import annotations

from typing import Optional

from keyring.backend import KeyringBackend
from keyring.credentials import Credential, SimpleCredential
from keyring.errors import PasswordDeleteError, PasswordSetError

STORE_FIX = (
    "install a backend that can (pip install keyrings.alt, or the OS secret service: "
    "gnome-keyring / KWallet on Linux), or name one in PYTHON_KEYRING_BACKEND"
)


class CannotStore(PasswordSetError, NotImplementedError):
    """`set_password`: keyring's chainer skips a NotImplementedError and stores in the next
    backend; a tool that catches KeyringError gets one (it is a PasswordSetError too)."""


class NothingToDelete(PasswordDeleteError, NotImplementedError):
    """`delete_password` for a service we hold nothing for: the chainer asks the next backend."""


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
        # keyring's chainer only gets here when no backend ahead of us stored it; keyring uses us
        # alone when no other backend is viable: then this message is what the user reads.
        raise CannotStore(
            f"keyrings.azure-artifacts only provides Azure Artifacts credentials and cannot store "
            f"a password for '{service}'; {_other_stores()}"
        )

    def delete_password(self, service: str, username: str) -> None:
        try:
            from .service import forget

            forgotten = forget(service)
        except Exception as exc:
            from ._log import one_line

            raise PasswordDeleteError(one_line(exc)) from None
        if not forgotten:
            raise NothingToDelete(
                f"keyrings.azure-artifacts holds no credential for '{service}' (it stores none it did "
                f"not create); {_other_stores()}"
            )


def _other_stores() -> str:
    """Which other backend could store passwords, or what to install (never raises)."""
    try:
        from .pat.store import installed_backends  # the same choice as where our PATs go

        others = installed_backends()
    except Exception:
        others = []
    if others:
        best = others[0]
        return f"keyring's chainer stores passwords in {type(best).__module__}.{type(best).__name__}"
    return f"no other keyring backend on this machine can store passwords: {STORE_FIX}"


def _lookup(service: str, username: Optional[str]) -> Optional[tuple[str, str]]:
    """Never raises: an exception here would make pip disable keyring for the whole run."""
    try:
        from .service import lookup

        return lookup(service, username)
    except Exception as exc:
        try:
            from ._log import get_logger, one_line

            get_logger().warning("%s", one_line(exc))
        except Exception:
            pass
        return None
