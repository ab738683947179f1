"""The warm path: a fresh cached secret found without validating the config or importing
pydantic, msal, azure.identity or requests.

A lookup that went through the full path leaves a small index entry named by a
fingerprint of everything that could change its answer: the service string, the
config file's path and bytes, and the environment variables that feed the settings.
The next lookup with the same fingerprint reads the index and the cached secret
(stdlib JSON) and is done. Any change to the file or those variables changes the
fingerprint, so a stale decision is never reused.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Callable, Optional

from .cache import CachedSecret, atomic_write_json, read_json

FORMAT = 1
MARGIN = 300  # same freshness rule as SecretCache: more than 5 minutes left

# Variables that change which secret a lookup returns (SPEC §7 and the flows' inputs).
RELEVANT_ENV = (
    "KEYRINGS_AZURE_ARTIFACTS_CONFIG",
    "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR",
    "KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN",
    "AZURE_DEVOPS_PAT_DURATION",
    "AZURE_DEVOPS_PAT_SCOPE",
    "AZURE_DEVOPS_EXT_PAT",
    "ARTIFACTS_KEYRING_NONINTERACTIVE_MODE",
    "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS",
    "ARTIFACTS_CREDENTIALPROVIDER_EXTERNAL_FEED_ENDPOINTS",
    "VSS_NUGET_ACCESSTOKEN",
    "SYSTEM_ACCESSTOKEN",
    "VSS_NUGET_URI_PREFIXES",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_AUTHORITY_HOST",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "IDENTITY_ENDPOINT",
    "MSI_ENDPOINT",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
)


def fingerprint(service: str, config: Path, environ: Mapping[str, str]) -> str:
    """sha256 over the service, the config path and bytes, and the relevant variables."""
    digest = hashlib.sha256(f"v{FORMAT}\0{service}\0{config}\0".encode())
    try:
        digest.update(config.read_bytes())
    except OSError:
        digest.update(b"\0<no config file>")
    for name in RELEVANT_ENV:
        value = environ.get(name)
        # Secrets in the environment enter the digest only through their own hash.
        marker = "-" if value is None else hashlib.sha256(value.encode()).hexdigest()
        digest.update(f"\0{name}={marker}".encode())
    return digest.hexdigest()


def read(state: Path, print_: str, now: Callable[[], float] = time.time) -> Optional[CachedSecret]:
    """The cached secret this fingerprint led to last time, if it is still fresh."""
    index = read_json(state / "fast" / f"{print_}.json")
    if not isinstance(index, dict) or index.get("v") != FORMAT:
        return None
    key = index.get("key")
    if not isinstance(key, str) or len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
        return None
    entry = CachedSecret.from_json(read_json(state / "secrets" / f"{key}.json"))
    if entry is None or entry.expires_at - now() <= MARGIN:
        return None
    return entry


def write(state: Path, print_: str, key: str) -> None:
    """Remember which secret-cache entry this fingerprint resolved to."""
    atomic_write_json(state / "fast" / f"{print_}.json", {"v": FORMAT, "key": key})
