"""MSAL's HTTP client: our timeout and retries, and OIDC metadata without a round trip where possible.

msal fetches the authority's `openid-configuration` (and, for Microsoft authorities, the
instance-discovery document) once per application object, i.e. once per process. Those
documents hold no secret and change rarely, so:

- with `directory`, 200 answers are kept on disk for a day: a new process that signs a user
  in silently from the persisted token cache does not fetch them again;
- with `derive`, the tenant document of an Entra ID authority is written from the endpoint
  layout Entra ID documents (`{host}/{tenant}/oauth2/v2.0/token`, the layout azure-identity's
  own token client assumes, `azure/identity/_internal/aad_client_base.py`), so a service
  principal's first sign-in is one request, not two.

Token requests are never cached.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import urlencode, urlsplit

from .._log import get_logger

FILE_NAME = "msal_metadata.json"
TTL = 24 * 3600
_METADATA_PATHS = ("/.well-known/openid-configuration", "/common/discovery/instance")
_TENANT_DOCUMENT = "/v2.0/.well-known/openid-configuration"
# Tenant segments whose document cannot be written down: ADFS has its own layout, and the
# multi-tenant aliases have an issuer template msal's user flows read.
_NOT_DERIVED = frozenset({"adfs", "common", "organizations", "consumers"})


class StoredResponse:
    """Enough of a requests.Response for msal to read a cached or derived metadata document."""

    status_code = 200
    headers: Mapping[str, str] = {}

    def __init__(self, text: str) -> None:
        self.text = text

    def raise_for_status(self) -> None:
        return None


def is_metadata(url: str) -> bool:
    return urlsplit(url).path.endswith(_METADATA_PATHS)


def metadata_key(url: str, params: Optional[Mapping[str, Any]]) -> str:
    return url + ("?" + urlencode(sorted(params.items())) if params else "")


def entra_tenant_document(url: str) -> Optional[str]:
    """The openid-configuration of `https://host/{tenant}/v2.0/...` as Entra ID lays it out, or None
    for anything else (other paths, ADFS, multi-tenant aliases, plain http)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.query or not parts.path.endswith(_TENANT_DOCUMENT):
        return None
    tenant = parts.path[: -len(_TENANT_DOCUMENT)].strip("/")
    if not tenant or "/" in tenant or tenant.lower() in _NOT_DERIVED:
        return None
    base = f"https://{parts.netloc}/{tenant}"
    return json.dumps(
        {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        }
    )


class MetadataCachingClient:
    """The `http_client` msal is given: metadata GETs are derived or come from `directory` while fresh.

    Requests go through `http` (our `Http`: its timeout, retry and redirect policy, errors as
    `ServiceError`) when given, else through a requests session of our own like msal's.
    `last_status` is the status of the last answer from the network, for error mapping.
    """

    def __init__(
        self,
        directory: Optional[Path],
        timeout: float,
        ttl: int = TTL,
        now: Callable[[], float] = time.time,
        *,
        http: Any = None,
        derive: bool = False,
    ) -> None:
        self.path = None if directory is None else Path(directory) / FILE_NAME
        self.timeout = timeout
        self._store: Any = None
        if self.path is not None:
            from ..cache import AgedStore

            self._store = AgedStore(self.path, ttl, now)
        self.derive = derive
        self.last_status: Optional[int] = None
        self._http = http
        self._session: Any = None

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        if not is_metadata(url):
            return self._send("GET", url, params=params, headers=headers, **kwargs)
        derived = entra_tenant_document(url) if self.derive and not params else None
        if derived is not None:
            get_logger().debug("msal: metadata derived, not fetched: %s", url)
            return StoredResponse(derived)
        key = metadata_key(url, params)
        stored = self._store.get(key) if self._store is not None else None
        if stored is not None and isinstance(stored.get("text"), str):
            get_logger().debug("msal: metadata from cache: %s", url)
            return StoredResponse(stored["text"])
        response = self._send("GET", url, params=params, headers=headers, **kwargs)
        if response.status_code == 200:
            self._write(key, response.text)
        return response

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        return self._send("POST", url, params=params, data=data, headers=headers, **kwargs)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        elif self._http is not None:
            self._http.close()

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        if self._http is not None:
            kwargs.pop("timeout", None)  # ours applies its own
            kwargs = {k: v for k, v in kwargs.items() if k in ("params", "data", "headers") and v is not None}
            response = self._http.request(method, url, check=False, **kwargs)
        else:
            response = self._own_request(method, url, **kwargs)
        self.last_status = int(response.status_code)
        return response

    def _own_request(self, method: str, url: str, **kwargs: Any) -> Any:
        """A request on a session like msal's own (one retry), with our trust and proxies (tls.py);
        an untrusted certificate becomes our one-line ServiceError."""
        import os

        import requests

        from .. import tls
        from ..http import _safe_url, tls_failure

        if self._session is None:
            self._session = tls.session(os.environ, max_retries=1)  # what msal mounts on its own
        kwargs.setdefault("timeout", self.timeout)
        try:
            return self._session.request(method, url, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise tls_failure(exc, f"{method} {_safe_url(url)}", url, os.environ) from None

    def _write(self, key: str, text: str) -> None:
        if self._store is None:
            return
        try:
            self._store.put(key, {"text": text})
        except OSError as exc:  # the cache is an optimisation; sign-in goes on without it
            get_logger().debug("msal: metadata not cached: %s", exc.__class__.__name__)
