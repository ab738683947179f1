"""MSAL's HTTP client: requests with our timeout, and OIDC metadata kept on disk for a day.

msal fetches the authority's `openid-configuration` (and, for Microsoft authorities, the
instance-discovery document) once per application object, i.e. once per process. Those
documents hold no secret and change rarely, so a new process that signs in silently from
the persisted token cache does not need to fetch them again. Only 200 answers are kept;
token requests are never cached.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import urlencode, urlsplit

from .._log import get_logger

FILE_NAME = "msal_metadata.json"
TTL = 24 * 3600
_METADATA_PATHS = ("/.well-known/openid-configuration", "/common/discovery/instance")


class StoredResponse:
    """Enough of a requests.Response for msal to read a cached metadata document."""

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


class MetadataCachingClient:
    """The `http_client` msal is given: GETs of metadata come from `directory` while fresh."""

    def __init__(
        self, directory: Path, timeout: float, ttl: int = TTL, now: Callable[[], float] = time.time
    ) -> None:
        import requests
        from requests.adapters import HTTPAdapter

        self.path = Path(directory) / FILE_NAME
        self.timeout = timeout
        self.ttl = ttl
        self.now = now
        self._session = requests.Session()
        adapter = HTTPAdapter(max_retries=1)  # what msal mounts on its own session
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        if not is_metadata(url):
            return self._session.get(url, params=params, headers=headers, **kwargs)
        key = metadata_key(url, params)
        stored = self._read().get(key)
        if isinstance(stored, dict) and isinstance(stored.get("text"), str):
            at = stored.get("at")
            if isinstance(at, (int, float)) and 0 <= self.now() - at < self.ttl:
                get_logger().debug("msal: metadata from cache: %s", url)
                return StoredResponse(stored["text"])
        response = self._session.get(url, params=params, headers=headers, **kwargs)
        if response.status_code == 200:
            self._write(key, response.text)
        return response

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        return self._session.post(url, params=params, data=data, headers=headers, **kwargs)

    def close(self) -> None:
        self._session.close()

    def _read(self) -> dict[str, Any]:
        from ..cache import read_json

        data = read_json(self.path)
        return data if isinstance(data, dict) else {}

    def _write(self, key: str, text: str) -> None:
        from ..cache import atomic_write_json

        now = self.now()
        kept = {
            k: v
            for k, v in self._read().items()
            if isinstance(v, dict) and isinstance(v.get("at"), (int, float)) and 0 <= now - v["at"] < self.ttl
        }
        kept[key] = {"at": int(now), "text": text}
        try:
            atomic_write_json(self.path, kept)
        except OSError as exc:  # the cache is an optimisation; sign-in goes on without it
            get_logger().debug("msal: metadata not cached: %s", exc.__class__.__name__)
