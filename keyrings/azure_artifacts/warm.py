"""The warm path: a lookup answered from the secret cache without validating the config or
importing pydantic, msal, azure.identity or requests.

A full lookup that ends at a cached secret leaves an index entry for its service string:
the secret-cache key it used and the inputs (`inputs.py`) it consulted on the way to that
key. The next lookup for the same service reuses the key only while every recorded input
is unchanged, so it returns exactly what the full path would: the full path, given the
same inputs, computes the same key and reads the same entry under the same freshness rule.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Optional

from .cache import CachedSecret, SecretCache, is_key
from .inputs import unchanged
from .statefs import atomic_write_json, read_json

FORMAT = 2
VARIANTS = 8  # input sets remembered per service (two shells with different identities, ...)


def _index_path(state: Path, service: str, config: Path) -> Path:
    name = hashlib.sha256(f"v{FORMAT}\0{service}\0{config}".encode("utf-8", "surrogateescape"))
    return state / "warm" / f"{name.hexdigest()}.json"


def _variants(path: Path) -> list[dict[str, Any]]:
    data = read_json(path)
    if not isinstance(data, dict) or data.get("v") != FORMAT or not isinstance(data.get("variants"), list):
        return []
    return [v for v in data["variants"] if isinstance(v, dict)]


def read(
    state: Path, service: str, config: Path, environ: Mapping[str, str], now: Callable[[], float] = time.time
) -> Optional[CachedSecret]:
    """The cached secret the full path would return, when an index variant's inputs all match."""
    for variant in _variants(_index_path(state, service, config)):
        key = variant.get("key")
        if isinstance(key, str) and is_key(key) and unchanged(variant.get("inputs"), environ):
            return SecretCache(state / "secrets", now=now).get(key)
    return None


def write(state: Path, service: str, config: Path, key: str, inputs: dict[str, Any]) -> None:
    """Remember that these inputs led to secret-cache entry `key` (newest variant first)."""
    path = _index_path(state, service, config)
    kept = [v for v in _variants(path) if v.get("inputs") != inputs][: VARIANTS - 1]
    atomic_write_json(path, {"v": FORMAT, "variants": [{"key": key, "inputs": inputs}, *kept]})
