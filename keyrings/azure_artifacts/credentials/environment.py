"""`environment`: a service principal described by AZURE_* variables (secret or certificate).

The variables are azure-identity's EnvironmentCredential's, read from `options.environ` (the
caller decides the environment); the client-credentials grant runs on msal directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional, Union

from ..errors import AuthenticationFailed
from ._util import env_value, one_line
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
    service_identity = True
    auto = 2

    unavailable = staticmethod(unavailable_reason)

    @classmethod
    def identity_inputs(cls, options: FlowOptions, note_file: Callable[[Path], None]) -> dict[str, object]:
        """The service principal: its client id and tenant (secret or certificate are its proof)."""
        if unavailable_reason(options) is not None:
            return {}
        env = options.environ
        return {
            "client_id": env_value(env, "AZURE_CLIENT_ID"),
            "tenant": options.tenant or env_value(env, "AZURE_TENANT_ID"),
        }

    def fetch(self, scope: str) -> AccessToken:
        from ._confidential import confidential_token

        env = self.options.environ
        # unavailable_reason() has checked that these are set.
        tenant = self.options.tenant or env_value(env, "AZURE_TENANT_ID") or ""
        client_id = env_value(env, "AZURE_CLIENT_ID") or ""
        credential: Union[str, Mapping[str, Any]] = env_value(env, "AZURE_CLIENT_SECRET") or ""
        if not credential:
            send_chain = (env_value(env, "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN") or "").lower()
            credential = load_certificate(
                env_value(env, "AZURE_CLIENT_CERTIFICATE_PATH") or "",
                env.get("AZURE_CLIENT_CERTIFICATE_PASSWORD") or None,
                send_chain=send_chain in ("1", "true"),
            )
        return confidential_token(self.name, self.options, tenant, client_id, credential, scope)


def load_certificate(path: str, password: Optional[str], *, send_chain: bool = False) -> dict[str, str]:
    """A PEM (key and certificate) or PKCS12 file as msal's certificate credential, the way
    azure-identity's CertificateCredential reads it: RSA key, SHA-1 thumbprint, chain on request."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import pkcs12

    where = "AZURE_CLIENT_CERTIFICATE_PATH"
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise AuthenticationFailed(f"environment: cannot read {where}: {type(exc).__name__}") from None
    secret = password.encode("utf-8") if password else None
    pem = serialization.Encoding.PEM
    try:
        if b"-----BEGIN" in data:
            key: Any = serialization.load_pem_private_key(data, secret)
            certs = [x509.load_pem_x509_certificate(data)]
            key_pem = data
        else:
            key, cert, more = pkcs12.load_key_and_certificates(data, secret)
            if key is None or cert is None:
                raise ValueError("the file must hold the private key and its certificate")
            certs = [cert, *more]
            key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            secret = None  # decrypted above
    except (ValueError, TypeError) as exc:  # wrong password, not PEM/PKCS12, key without certificate
        raise AuthenticationFailed(
            f"environment: {where}: {one_line(exc, 'unreadable certificate')}"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise AuthenticationFailed(f"environment: {where}: the key must be RSA (RS256 signs the assertion)")
    credential = {
        "private_key": key_pem.decode("utf-8"),
        "thumbprint": certs[0].fingerprint(hashes.SHA1()).hex(),  # x5t is SHA-1 by definition
    }
    if secret:
        credential["passphrase"] = password or ""
    if send_chain:
        credential["public_certificate"] = b"".join(c.public_bytes(pem) for c in certs).decode("utf-8")
    return credential
