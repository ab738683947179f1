"""Lookups at the same time: threads in one process, processes waiting on one lock."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import pytest

from keyrings.azure_artifacts import service

if TYPE_CHECKING:
    from helpers import Logged


def _endpoints(*entries: tuple[str, str, str]) -> str:
    return json.dumps(
        {"endpointCredentials": [{"endpoint": e, "username": u, "password": p} for e, u, p in entries]}
    )


def test_concurrent_lookups_each_get_their_own_endpoint_username(tmp_path: Path) -> None:
    """pip may look up several feeds at once in one process: the username travels with each
    lookup's secret, so one lookup's endpoint username never leaks into another's answer."""
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
    results: dict[str, Optional[tuple[str, str]]] = {}
    start = threading.Barrier(2, timeout=10)

    def work(url: str) -> None:
        start.wait()
        for _round in range(20):
            results[url] = service.lookup(url, None, env)
            assert results[url] is not None

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
    from keyrings.azure_artifacts import modes
    from keyrings.azure_artifacts.cache import SecretCache
    from keyrings.azure_artifacts.context import Context
    from keyrings.azure_artifacts.modes import cached
    from keyrings.azure_artifacts.signin import SignIn

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
    ctx = Context(env, stderr_isatty=False)
    monkeypatch.setattr(cached, "LOCK_TIMEOUT", 0.3)  # what the secret cache's modes wait
    key = modes.mode_for("session").key(SignIn(resolution, ctx))
    with SecretCache(tmp_path / "state" / "secrets").lock(key, timeout=1):
        assert service.obtain(resolution, ctx) is None
    lines = logged.warnings()
    assert len(lines) == 1, lines
    assert "contoso" in lines[0] and "remove" not in lines[0], lines[0]
