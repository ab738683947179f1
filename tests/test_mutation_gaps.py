"""Tests for bugs that were planted in the core and survived the rest of the suite.

Each test names the bug it catches; they sit together so that the next mutation run can be
compared with this list.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from helpers import APP_ID, APP_SECRET, posix_only

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.cache import CachedSecret, SecretCache, cache_key
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from helpers import CleanEnv


def test_warm_hit_returns_the_callers_username_like_the_full_path(
    fake: FakeAzure, clean_env: CleanEnv
) -> None:
    """Bug: the warm path returned the cached username instead of the one the caller passed."""
    env = clean_env.for_lookup(
        f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n',
        ca=fake.ca_path,
        CI="1",
        AZURE_TENANT_ID=fake.default_tenant,
        AZURE_CLIENT_ID=APP_ID,
        AZURE_CLIENT_SECRET=APP_SECRET,
    )
    url = fake.feed_url("contoso", "main")
    cold = service.lookup(url, "alice", env)
    assert cold is not None and cold[0] == "alice"
    before = fake.count()
    warm = service.lookup(url, "bob", env)
    assert fake.count() == before, "the second lookup must be served warm"
    assert warm == ("bob", cold[1])
    anonymous = service.lookup(url, None, env)
    assert anonymous == ("VssSessionToken", cold[1])


@posix_only
@pytest.mark.parametrize("mode", [0o640, 0o620, 0o604, 0o660])
def test_cache_file_open_to_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    """Bug: only world-readable files were refused; a group-readable one was used."""
    cache = SecretCache(tmp_path / "state", now=lambda: 1_000_000.0)
    key = cache_key(org="contoso")
    cache.put(
        key,
        CachedSecret(
            secret="s3cret",
            username="VssSessionToken",
            kind="session",
            expires_at=1_000_000 + 3600,
            org="contoso",
        ),
    )
    path = tmp_path / "state" / f"{key}.json"
    os.chmod(path, mode)
    assert SecretCache(tmp_path / "state", now=lambda: 1_000_000.0).get(key) is None
