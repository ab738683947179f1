"""What the app-only flows share: msal's confidential client and managed-identity client over our HTTP.

`environment`, `workload_identity` and `managed_identity` run on msal directly rather than on
azure-identity: the same token requests, without importing azure-identity and azure-core
(~150 modules) on the first, cold lookup of a CI job. msal is imported inside functions only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Callable, Optional, Union

from ..errors import AuthenticationFailed, AzureArtifactsError, CredentialUnavailable, UntrustedCertificate
from ._msal_http import MetadataCachingClient
from ._util import authority_host, is_microsoft_host, one_line
from .base import AccessToken, FlowOptions

# Bounded retries on connection errors and 429/503 (5xx for GETs), as azure-identity's pipeline had.
RETRY_TOTAL = 2
ClientCredential = Union[str, Mapping[str, Any]]


def http_client(options: FlowOptions, *, derive: bool = False) -> MetadataCachingClient:
    """msal's transport: our `Http` (timeout, retries, safe redirects), metadata derived or kept on disk."""
    from ..http import Http

    return MetadataCachingClient(
        options.state_dir,
        options.timeout,
        http=Http(timeout=options.timeout, retries=RETRY_TOTAL),
        derive=derive,
    )


def result_token(name: str, result: Optional[Mapping[str, Any]], now: float) -> AccessToken:
    """An msal result dict as an AccessToken; an error answer becomes AuthenticationFailed."""
    if not result:
        raise AuthenticationFailed(f"{name}: no token returned")
    token = result.get("access_token")
    if isinstance(token, str) and token:
        try:
            expires_in = int(result.get("expires_in", 0))
        except (TypeError, ValueError):
            expires_in = 0
        return AccessToken(token=token, expires_on=int(now + expires_in))
    error = one_line(result.get("error"), "error")
    description = result.get("error_description")
    raise AuthenticationFailed(f"{error}: {one_line(description)}" if description else error)


def _call(name: str, client: MetadataCachingClient, acquire: Callable[[], Any]) -> Any:
    """Run an msal call, turning transport and parsing failures into one safe line."""
    import requests
    from msal.exceptions import MsalServiceError

    try:
        return acquire()
    except UntrustedCertificate:
        raise  # its own message, whole (tls.py)
    except AzureArtifactsError as exc:  # ServiceError from our Http: already one safe line
        raise AuthenticationFailed(f"{name}: {one_line(exc)}") from None
    except (MsalServiceError, requests.exceptions.HTTPError):  # a 5xx left after our retries
        raise AuthenticationFailed(f"{name}: token service answered HTTP {client.last_status}") from None
    except ValueError as exc:  # msal: a body that is not JSON, a malformed authority or key
        raise AuthenticationFailed(
            f"{name}: {one_line(exc, 'unusable answer from the token service')}"
        ) from None
    finally:
        client.close()


def confidential_token(
    name: str, options: FlowOptions, tenant: str, client_id: str, credential: ClientCredential, scope: str
) -> AccessToken:
    """The client-credentials grant for an app (secret, certificate or client assertion)."""
    import msal

    authority = f"{authority_host(options)}/{tenant}"
    client = http_client(options, derive=True)

    def acquire() -> Any:
        app = msal.ConfidentialClientApplication(
            client_id,
            client_credential=credential,
            authority=authority,
            # Microsoft hosts are known to msal; any other host is asked about only if we say so.
            instance_discovery=is_microsoft_host(authority),
            http_client=client,
        )
        return app.acquire_token_for_client([scope])

    now = time.time()
    return result_token(name, _call(name, client, acquire), now)


def managed_identity_token(
    options: FlowOptions, resource: str, client_id: Optional[str], *, imds: bool
) -> AccessToken:
    """A token from the managed identity endpoint the process environment names (msal reads it).

    For IMDS, no answer at all or a 400 means no identity is assigned here: unavailable, as
    azure-identity's ImdsCredential reports it; anything else that goes wrong has failed."""
    import msal

    client = http_client(options)
    identity: Any = (
        msal.UserAssignedManagedIdentity(client_id=client_id)
        if client_id
        else msal.SystemAssignedManagedIdentity()
    )

    def acquire() -> Any:
        app = msal.ManagedIdentityClient(identity, http_client=client)
        return app.acquire_token_for_client(resource=resource)

    now = time.time()
    try:
        result = _call("managed_identity", client, acquire)
    except AuthenticationFailed as exc:
        if imds and client.last_status is None:
            raise CredentialUnavailable(f"no response from the IMDS endpoint ({one_line(exc)})") from None
        raise
    if imds and client.last_status == 400 and not (result or {}).get("access_token"):
        which = "the requested identity is" if client_id else "no identity is"
        raise CredentialUnavailable(f"IMDS: {which} assigned to this resource")
    return result_token("managed_identity", result, now)
