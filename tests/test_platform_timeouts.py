"""Windows hangs, simulated on Linux: a developer CLI whose child outlives it, and the broker.

Both are bounded by our own wait (`credentials/_bounded.py`), whatever the library does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from helpers import run_cli

from keyrings.azure_artifacts.credentials import broker, chain
from keyrings.azure_artifacts.credentials.base import FlowOptions
from keyrings.azure_artifacts.errors import AuthenticationFailed, CredentialUnavailable
from keyrings.azure_artifacts.microsoft import ADO_SCOPE
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from helpers import CleanEnv

CHILD_SLEEPS = 30  # seconds the CLI's child holds the pipes: a lookup that waited for it took that long

# `az` as Windows runs it: `az.cmd` starts a Python child that inherits the pipes and hangs.
HANGING_CLI = """#!/bin/sh
sleep {sleep} &
echo $! > "{pid_file}"
exec sleep {sleep}
"""


@pytest.fixture
def windows_run_after_kill(monkeypatch: pytest.MonkeyPatch) -> None:
    """`subprocess.run` as on Windows: after killing the process on a timeout it calls
    `communicate()` again without a timeout, which reads until every holder of the pipes has
    closed them (CPython Lib/subprocess.py `run()`, the `_mswindows` branch; python/cpython
    issue 75628, still open; the POSIX side was fixed by bpo-37424, python/cpython PR 14490,
    which is why Linux does not hang). azure-identity runs `az.cmd` / `azd.cmd` this way."""
    kill = subprocess.Popen.kill

    def kill_then_read_to_eof(self: subprocess.Popen[Any]) -> None:
        kill(self)
        for pipe in (self.stdout, self.stderr):
            if pipe is not None:
                pipe.read()

    monkeypatch.setattr(subprocess.Popen, "kill", kill_then_read_to_eof)


@pytest.fixture
def hanging_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A bin directory for fake CLIs on PATH; the children they leave behind are ended afterwards."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    yield bin_dir
    for pid_file in bin_dir.glob("*.pid"):
        with contextlib.suppress(ValueError, ProcessLookupError):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


@pytest.mark.skipif(sys.platform == "win32", reason="the fake CLI is a POSIX shell script")
@pytest.mark.usefixtures("windows_run_after_kill")
@pytest.mark.parametrize(
    ("name", "executable"),
    [("azure_cli", "az"), ("azure_developer_cli", "azd"), ("azure_powershell", "pwsh")],
)
def test_a_cli_whose_child_holds_the_pipes_is_given_up_on(
    hanging_cli: Path, name: str, executable: str
) -> None:
    pid_file = hanging_cli / f"{executable}.pid"
    script = hanging_cli / executable
    script.write_text(HANGING_CLI.format(sleep=CHILD_SLEEPS, pid_file=pid_file))
    script.chmod(0o755)
    options = FlowOptions(org="contoso", tenant=None, timeout=1.0, environ=dict(os.environ))
    started = time.monotonic()
    with pytest.raises(CredentialUnavailable, match=f"`{executable}` gave no answer within 1 s"):
        chain.build_flow(name, options).get_token(ADO_SCOPE)
    assert time.monotonic() - started < CHILD_SLEEPS / 2
    assert pid_file.exists()  # the child did start, and still held the pipes when we gave up


@pytest.mark.skipif(sys.platform == "win32", reason="the fake CLI is a POSIX shell script")
def test_a_cli_timeout_on_posix_says_so_in_one_line(hanging_cli: Path) -> None:
    """Here azure-identity's own timeout ends the call; its "Failed to invoke" becomes our line."""
    pid_file = hanging_cli / "az.pid"
    (hanging_cli / "az").write_text(HANGING_CLI.format(sleep=CHILD_SLEEPS, pid_file=pid_file))
    (hanging_cli / "az").chmod(0o755)
    options = FlowOptions(org="contoso", timeout=1.0, environ=dict(os.environ))
    with pytest.raises(CredentialUnavailable) as raised:
        chain.build_flow("azure_cli", options).get_token(ADO_SCOPE)
    assert str(raised.value) == "`az` gave no answer within 1 s (the `timeout` setting)"


@pytest.mark.skipif(sys.platform == "win32", reason="the fake CLI is a POSIX shell script")
@pytest.mark.usefixtures("windows_run_after_kill")
def test_the_person_sees_one_line_naming_the_cli_and_the_timeout(
    fake_azure: FakeAzure,
    clean_env: CleanEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`token URL` with `credential = azure_cli` and a hung `az`: exit 1, one line, no traceback."""
    pid_file = clean_env.bin_dir / "az.pid"
    config = (
        f'[artifacts host="{fake_azure.host}"]\nauthority_host = {fake_azure.base_url}\n'
        "credential = azure_cli\nauth = bearer\ninteractive = never\ntimeout = 1\n"
    )
    env = clean_env.for_lookup(config, ca=fake_azure.ca_path)
    clean_env.install(
        monkeypatch, {**env, "PATH": f"{clean_env.bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin"}
    )
    script = clean_env.bin_dir / "az"
    script.write_text(HANGING_CLI.format(sleep=CHILD_SLEEPS, pid_file=pid_file))
    script.chmod(0o755)
    try:
        code, out, err = run_cli(capsys, "token", fake_azure.feed_url("contoso", "main"))
    finally:
        with contextlib.suppress(ValueError, OSError):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "azure_cli: `az` gave no answer within 1 s (the `timeout` setting)" in err


class HangingBrokerApp:
    """msal's application with the broker on Windows, where WAM never calls back: msal waits on
    `callback_data.signal.wait()` without a timeout (msal/broker.py `_signin_interactively`)."""

    CONSOLE_WINDOW_HANDLE = object()
    HANG = 20  # "for ever", bounded so that a test of broken code fails instead of hanging

    def __init__(self, release: threading.Event, *, accounts: bool = False) -> None:
        self.release = release
        self.accounts = accounts
        self.calls: list[str] = []

    def get_accounts(self, username: Any = None) -> list[dict[str, str]]:
        return [{"username": "user@contoso.com"}] if self.accounts else []

    def acquire_token_silent(self, scopes: list[str], account: Any) -> dict[str, str]:
        self.calls.append("silent")
        self.release.wait(self.HANG)
        return {}

    def acquire_token_interactive(self, scopes: list[str], **kwargs: Any) -> dict[str, str]:
        self.calls.append("interactive")
        self.release.wait(self.HANG)  # the `timeout` keyword is not passed on to WAM
        return {}


@pytest.fixture
def windows_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    release = threading.Event()
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(broker, "broker_supported", lambda platform="win32": True)
    yield release
    release.set()  # let the abandoned thread finish


@pytest.mark.parametrize("signed_in_before", [False, True])
def test_the_broker_is_given_up_on_after_the_timeout(
    windows_broker: threading.Event, monkeypatch: pytest.MonkeyPatch, signed_in_before: bool
) -> None:
    app = HangingBrokerApp(windows_broker, accounts=signed_in_before)
    monkeypatch.setattr(broker, "application", lambda options, broker=False: app)
    options = FlowOptions(org="contoso", interactive=True, timeout=0.5, interactive_timeout=1.0, environ={})
    started = time.monotonic()
    expected = f"the Windows broker gave no answer within {0.5 if signed_in_before else 1} s"
    with pytest.raises(AuthenticationFailed, match=expected):
        broker.BrokerFlow(options).get_token(ADO_SCOPE)
    assert time.monotonic() - started < HangingBrokerApp.HANG / 2
    assert app.calls == (["silent"] if signed_in_before else ["interactive"])
