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
# Keywords azure-core's RequestsTransport reads when it is built (timeouts, TLS verification).
TRANSPORT_SETTINGS = ("connection_timeout", "read_timeout", "connection_verify", "connection_cert")


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
    }
    if not is_microsoft_host(authority):
        kwargs["disable_instance_discovery"] = True
    kwargs["transport"] = gated_transport(options, kwargs)
    return kwargs


def gated_transport(options: FlowOptions, kwargs: dict[str, Any], *, own_trust: bool = True) -> Any:
    """azure-core's requests transport on a session whose every request passes the egress gate.
    A transport given to a credential is used as built, so the connection settings go to it; the
    session is not the transport's to close (AzurePipelinesCredential shares it between two pipelines)."""
    from azure.core.pipeline.transport import RequestsTransport

    from ..http import gated_session

    settings = {k: v for k, v in kwargs.items() if k in TRANSPORT_SETTINGS}
    session = gated_session(options.gate(), own_trust=own_trust)
    return RequestsTransport(session=session, session_owner=False, **settings)


def _transport_failure(exc: Exception) -> AzureArtifactsError:
    """azure-core's transport error as ours; an untrusted certificate names its host."""
    import os
    import re

    from ..tls import hide_userinfo, is_untrusted, origin_key, trust_for, untrusted

    text = str(getattr(exc, "message", None) or exc)
    if is_untrusted(exc):
        where = re.search(r"host='([^']+)', port=(\d+)", text)
        url = f"https://{where.group(1)}:{where.group(2)}/" if where else ""
        host = origin_key(url).split("://", 1)[1] if where else "the server"
        return UntrustedCertificate(untrusted(host, trust_for(url, os.environ)))
    return AuthenticationFailed(one_line(hide_userinfo(text)))


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
    except AzureArtifactsError as exc:  # the egress gate refused a request
        raise AuthenticationFailed(f"{name}: {one_line(exc)}") from None
    finally:
        close = getattr(credential, "close", None)
        if callable(close):
            close()
    return AccessToken(token=token.token, expires_on=int(token.expires_on))
