"""Over SSH on macOS and Windows, `auto` signs in with a device code, not a browser.

OpenSSH's sshd sets SSH_CONNECTION (and SSH_TTY when a terminal is allocated) in the remote
session (OpenSSH sshd(8), ENVIRONMENT); macOS's Remote Login and Windows' OpenSSH server are
that sshd. A browser started there opens on the remote desktop, or nowhere, and msal waits
for its redirect for minutes in silence.
"""

from __future__ import annotations

import sys
import webbrowser
from pathlib import Path

import pytest

from keyrings.azure_artifacts.credentials import chain
from keyrings.azure_artifacts.credentials.base import FlowOptions
from keyrings.azure_artifacts.credentials.interactive_browser import InteractiveBrowserFlow
from keyrings.azure_artifacts.errors import AuthenticationFailed
from keyrings.azure_artifacts.microsoft import ADO_SCOPE
from keyrings.azure_artifacts.testing import FakeAzure

SSH = {"SSH_CONNECTION": "203.0.113.7 50022 192.0.2.10 22", "SSH_TTY": "/dev/pts/3"}


def interactive_chain(environ: dict[str, str]) -> str:
    """The interactive flow `auto` would end with (PATH empty: no CLI)."""
    options = FlowOptions(org="contoso", interactive=True, environ={"PATH": "", **environ})
    return chain.auto_chain(options)[-1]


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_over_ssh_auto_signs_in_with_a_device_code(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    assert interactive_chain({}) == "interactive_browser"  # at the machine: the browser
    assert interactive_chain(SSH) == "device_code"
    assert (
        interactive_chain({"SSH_CONNECTION": SSH["SSH_CONNECTION"]}) == "device_code"
    )  # `ssh host cmd`: no tty
    assert interactive_chain({"SSH_TTY": ""}) == "interactive_browser"  # empty means unset


def test_over_ssh_explain_says_why_the_browser_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    options = FlowOptions(org="contoso", interactive=True, environ=SSH)
    lines = chain.describe_chain(["interactive_browser", "device_code"], options)
    assert lines == [
        "interactive_browser: skipped, an SSH session: no browser here",
        "device_code: would be tried",
    ]


def test_over_ssh_the_windows_broker_is_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    """WAM shows its window on the console session's desktop, which an SSH session has not."""
    from keyrings.azure_artifacts.credentials import broker

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(broker, "broker_supported", lambda platform=None: True)
    assert interactive_chain({}) == "broker"
    assert interactive_chain(SSH) == "device_code"


def test_linux_keeps_its_display_rule_over_ssh(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ssh -X`: DISPLAY is forwarded and a browser can open on the person's screen."""
    monkeypatch.setattr(sys, "platform", "linux")
    assert interactive_chain({**SSH, "DISPLAY": "localhost:10.0"}) == "interactive_browser"
    assert interactive_chain(SSH) == "device_code"


def test_when_no_browser_opens_msal_s_sign_in_url_is_shown(
    fake_azure: FakeAzure, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """msal only logs the URL as a warning when `webbrowser` opens nothing (msal
    oauth2cli/authcode.py, "Found no browser in current environment"), and library warnings
    are kept quiet: the flow hands msal an `auth_uri_callback` that prints it on stderr."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake_azure.ca_path)
    monkeypatch.setattr(webbrowser, "open", lambda *args, **kwargs: False)  # no browser here
    options = FlowOptions(
        org="contoso",
        tenant=fake_azure.default_tenant,
        authority_host=fake_azure.authority_host,
        interactive=True,
        interactive_timeout=1.0,
        state_dir=tmp_path / "state",
        environ={"DISPLAY": ":0"},
    )
    with pytest.raises(AuthenticationFailed):  # nobody signs in within the second
        InteractiveBrowserFlow(options).get_token(ADO_SCOPE)
    out, err = capsys.readouterr()
    assert out == ""
    assert f"No browser could be opened: to sign in, open {fake_azure.authority_host}" in err
