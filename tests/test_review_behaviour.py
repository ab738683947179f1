"""Behaviour found in review: each test pins one problem that was fixed."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Optional

import pytest

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.testing import FakeAzure


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


BROWSER = """#!{python}
import html, os, re, ssl, sys, time, urllib.parse, urllib.request
print("Opening in existing browser session.", flush=True)
if os.fork() == 0:  # a browser lives on after its launcher, holding the fds it inherited
    context = ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])
    page = urllib.request.urlopen(sys.argv[1], context=context, timeout=10).read().decode()
    action = html.unescape(re.search(r'action="([^"]*)"', page).group(1))
    fields = {{html.unescape(k): html.unescape(v) for k, v in re.findall(r'name="([^"]*)" value="([^"]*)"', page)}}
    urllib.request.urlopen(action, urllib.parse.urlencode(fields).encode(), timeout=10).read()
    time.sleep(20)
    os._exit(0)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX browser launcher")
def test_a_browser_started_for_sign_in_never_writes_to_our_stdout(
    fake_azure: FakeAzure, tmp_path: Path
) -> None:
    """uv reads the password from `keyring get`'s stdout until EOF: a browser inheriting that
    pipe would add its chatter to the password and keep uv waiting for as long as it runs."""
    browser = tmp_path / "browser"
    browser.write_text(BROWSER.format(python=sys.executable))
    browser.chmod(0o755)
    config = tmp_path / "keyringrc.cfg"
    config.write_text(
        f'[artifacts host="{fake_azure.host}"]\nauthority_host = {fake_azure.base_url}\n'
        "credential = interactive_browser\ninteractive = always\nauth = bearer\ntimeout = 5\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "KEYRINGS_AZURE_ARTIFACTS_CONFIG": str(config),
        "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": str(tmp_path / "state"),
        "REQUESTS_CA_BUNDLE": fake_azure.ca_path,
        "DISPLAY": ":0",
        "BROWSER": str(browser),
        "NO_PROXY": "*",
    }
    probe = "import sys, keyring; sys.stdout.write(keyring.get_password(sys.argv[1], 'me') or 'NONE')"
    started = time.monotonic()
    with (tmp_path / "stderr").open("w") as stderr:  # a terminal in real life: not a pipe we wait on
        result = subprocess.run(
            [sys.executable, "-c", probe, fake_azure.feed_url("contoso", "main")],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            timeout=60,
        )
    elapsed = time.monotonic() - started
    issued = fake_azure.lookup(result.stdout)
    assert issued is not None and issued.kind == "access", result.stdout
    assert "Opening in existing browser session." in (tmp_path / "stderr").read_text()
    assert elapsed < 15, elapsed


def test_waiting_for_another_process_too_long_says_which_org_and_no_wrong_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock is an flock, released when its holder dies: deleting the file is never the fix
    (it would let a third process create a second PAT), and pip users need the org, not a hash."""
    from keyrings.azure_artifacts import modes
    from keyrings.azure_artifacts._log import get_logger
    from keyrings.azure_artifacts.cache import SecretCache
    from keyrings.azure_artifacts.context import Context
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
    monkeypatch.setattr(modes, "LOCK_TIMEOUT", 0.3)
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect(logging.WARNING)
    get_logger().addHandler(handler)
    try:
        key = modes.mode_for("session").key(SignIn(resolution, ctx))
        with SecretCache(tmp_path / "state" / "secrets").lock(key, timeout=1):
            assert service.obtain(resolution, ctx) is None
    finally:
        get_logger().removeHandler(handler)
    assert len(lines) == 1, lines
    assert "contoso" in lines[0] and "remove" not in lines[0], lines[0]
