"""Lookups at the same time: threads sharing one provider, processes waiting on one lock."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import pytest

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.provider import TokenProvider

if TYPE_CHECKING:
    from conftest import Logged


def _endpoints(*entries: tuple[str, str, str]) -> str:
    return json.dumps(
        {"endpointCredentials": [{"endpoint": e, "username": u, "password": p} for e, u, p in entries]}
    )


def test_threads_sharing_the_provider_get_their_own_endpoint_username(tmp_path: Path) -> None:
    """pip may look up several feeds at once; one per-process provider serves them all, so the
    endpoint username of one lookup must not leak into another's answer."""
    config = tmp_path / "keyringrc.cfg"
    config.write_text("")
    a = "https://pkgs.dev.azure.com/alpha/_packaging/a/pypi/simple/"
    b = "https://pkgs.dev.azure.com/beta/_packaging/b/pypi/simple/"
    env = {
        "KEYRINGS_AZURE_ARTIFACTS_CONFIG": str(config),
        "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": str(tmp_path / "state"),
        "PATH": os.defpath,
        "TF_BUILD": "True",
        "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS": _endpoints((a, "alice", "pw-a"), (b, "bob", "pw-b")),
    }
    resolutions = {url: service.resolve(url, env) for url in (a, b)}
    a_passed, b_passed = threading.Event(), threading.Event()

    class Interleaved(TokenProvider):
        """Holds alpha's lookup right after its pass-through step until beta's has run."""

        def pass_through(self, resolution: Any, attempts: list[tuple[str, str]]) -> tuple[Any, list[str]]:
            found = super().pass_through(resolution, attempts)
            if resolution.ref.org == "alpha":
                a_passed.set()
                b_passed.wait(10)
            else:
                b_passed.set()
            return found

    tokens = Interleaved(env, stderr_isatty=False)
    results: dict[str, Optional[tuple[str, str]]] = {}

    def work(url: str) -> None:
        if url == b:
            a_passed.wait(10)
        resolution = resolutions[url]
        assert resolution is not None
        results[url] = tokens.provide(resolution, None)

    threads = [threading.Thread(target=work, args=(url,)) for url in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == {a: ("alice", "pw-a"), b: ("bob", "pw-b")}


def test_waiting_for_another_process_too_long_says_which_org_and_no_wrong_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logged: Logged
) -> None:
    """The lock is an flock, released when its holder dies: deleting the file is never the fix
    (it would let a third process create a second PAT), and pip users need the org, not a hash."""
    from keyrings.azure_artifacts import provider
    from keyrings.azure_artifacts.cache import SecretCache

    config = tmp_path / "keyringrc.cfg"
    config.write_text("")
    env = {
        "KEYRINGS_AZURE_ARTIFACTS_CONFIG": str(config),
        "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": str(tmp_path / "state"),
        "PATH": os.defpath,
        "CI": "1",
    }
    url = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"
    resolution = service.resolve(url, env)
    assert resolution is not None
    tokens = TokenProvider(env, stderr_isatty=False)
    monkeypatch.setattr(provider, "LOCK_TIMEOUT", 0.3)
    with SecretCache(tmp_path / "state" / "secrets").lock(tokens.cache_key(resolution), timeout=1):
        assert tokens.provide(resolution, None) is None
    lines = logged.warnings()
    assert len(lines) == 1, lines
    assert "contoso" in lines[0] and "remove" not in lines[0], lines[0]
