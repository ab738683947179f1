"""What the azure-identity based flows share (the CLI credentials, Azure Pipelines federation,
managed identity on Cloud Shell and Service Fabric): constructor keywords and error mapping.
The other service-identity flows run on msal directly (`_confidential`).

azure-identity is imported inside functions only; this module's top level stays stdlib.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from ..errors import AuthenticationFailed, AzureArtifactsError, CredentialUnavailable, UntrustedCertificate
from ._util import authority_host, is_microsoft_host, one_line
from .base import AccessToken, FlowOptions

# Bounded retries on 5xx / connection errors inside azure-core's pipeline (its default is 10).
RETRY_TOTAL = 2


def http_kwargs(options: FlowOptions) -> dict[str, Any]:
    """Keywords for credentials that talk HTTP (Azure Pipelines federation, a certificate named by
    the feed-endpoints variable): authority, discovery, timeouts, retries, and azure-core's
    requests transport on a session with our trust and proxies (tls.py) instead of certifi's."""
    authority = authority_host(options)
    kwargs: dict[str, Any] = {
        "authority": authority,
        "connection_timeout": options.timeout,
        "read_timeout": options.timeout,
        "retry_total": RETRY_TOTAL,
        "transport": transport(options),
    }
    if not is_microsoft_host(authority):
        kwargs["disable_instance_discovery"] = True
    return kwargs


def transport(options: FlowOptions) -> Any:
    """azure-core's RequestsTransport over our session: azure-identity's requests are verified and
    proxied like ours. Its retry policy stays azure-core's (`retry_total`), so no adapter retries."""
    import os

    from azure.core.pipeline.transport import RequestsTransport

    from ..tls import session

    return RequestsTransport(
        session=session(os.environ),
        session_owner=True,
        connection_timeout=options.timeout,
        read_timeout=options.timeout,
    )


def _transport_failure(exc: Exception) -> AzureArtifactsError:
    """azure-core's transport error as ours; an untrusted certificate names its host."""
    import os
    import re

    from .. import tls

    text = str(getattr(exc, "message", None) or exc)
    if tls.is_untrusted(exc):
        where = re.search(r"host='([^']+)', port=(\d+)", text)
        url = f"https://{where.group(1)}:{where.group(2)}/" if where else ""
        host = tls.origin_key(url).split("://", 1)[1] if where else "the server"
        return UntrustedCertificate(tls.untrusted(host, tls.trust_for(url, os.environ)))
    return AuthenticationFailed(one_line(tls.hide_userinfo(text)))


def process_timeout(options: FlowOptions) -> int:
    """CLI credentials take whole seconds."""
    return max(1, math.ceil(options.timeout))


def request_token(name: str, build: Callable[[], Any], scope: str) -> AccessToken:
    """Build an azure-identity credential and ask it for `scope`, mapping its errors onto ours."""
    from azure.core.exceptions import AzureError, ClientAuthenticationError
    from azure.identity import CredentialUnavailableError

    try:
        credential = build()
    except ValueError as exc:  # azure-identity validates tenant ids, paths, certificates eagerly
        raise AuthenticationFailed(f"{name}: {one_line(exc)}") from None
    try:
        token = credential.get_token(scope)
    except CredentialUnavailableError as exc:
        raise CredentialUnavailable(one_line(exc, "unavailable")) from None
    except ClientAuthenticationError as exc:
        raise AuthenticationFailed(one_line(exc.message or exc)) from None
    except AzureError as exc:  # transport errors after retries
        raise _transport_failure(exc) from None
    except ValueError as exc:
        raise AuthenticationFailed(one_line(exc)) from None
    finally:
        close = getattr(credential, "close", None)
        if callable(close):
            close()
    return AccessToken(token=token.token, expires_on=int(token.expires_on))
