"""The terminal and the standard streams as Windows has them, simulated on Linux."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from keyrings.azure_artifacts import _console, cli
from keyrings.azure_artifacts.cache import CachedSecret, SecretCache
from keyrings.azure_artifacts.context import is_interactive

if TYPE_CHECKING:
    from helpers import CleanEnv

URL = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"


class CharacterDevice(io.StringIO):
    """A stream on a character device: Windows' `isatty()` answers True for NUL as for a console
    (MSVCRT `_isatty`: "associated with a character device"; bpo-28654)."""

    def fileno(self) -> int:
        return 2

    def isatty(self) -> bool:
        return True


class Pipe(CharacterDevice):
    def isatty(self) -> bool:
        return False  # mintty's terminal is a named pipe to `_isatty`


@pytest.mark.parametrize(
    ("stream", "kind", "expected"),
    [
        (CharacterDevice(), "console", True),  # cmd.exe, PowerShell, Windows Terminal
        (CharacterDevice(), "other", False),  # `2>NUL`: a character device, but no console
        (Pipe(), "mintty", True),  # Git Bash: \msys-…-pty0-to-master
        (Pipe(), "other", False),  # a plain pipe: a tool reading our stderr
    ],
)
def test_on_windows_a_console_is_asked_not_isatty(
    monkeypatch: pytest.MonkeyPatch, stream: CharacterDevice, kind: str, expected: bool
) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    assert _console.is_terminal(stream, windows_kind=lambda fd: kind) is expected
    monkeypatch.setattr(_console, "_windows_kind", lambda fd: kind)
    monkeypatch.setattr(sys, "stderr", stream)
    assert is_interactive("auto", {}) is expected


def test_elsewhere_isatty_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert _console.is_terminal(CharacterDevice(), windows_kind=lambda fd: "other")
    assert not _console.is_terminal(Pipe(), windows_kind=lambda fd: "console")
    assert not _console.is_terminal(io.StringIO())  # no descriptor: pytest's capture, for one


@pytest.mark.parametrize(
    ("name", "mintty"),
    [
        ("\\msys-1888ae32e00d56aa-pty0-to-master", True),
        ("\\cygwin-e022582115c10879-pty12-from-master", True),
        ("\\msys-1888ae32e00d56aa-pty0-to-master-nat", True),  # iscygpty.c accepts what follows
        ("\\pipe\\msys-1888ae32e00d56aa-pty0-to-master", False),
        ("\\Device\\NamedPipe\\mypipe", False),
        ("\\cygwin-xyz-pty0-to-master", False),
    ],
)
def test_mintty_is_recognised_by_its_pipe_name(name: str, mintty: bool) -> None:
    assert bool(_console._MINTTY_PIPE.match(name)) is mintty


def test_token_ends_in_a_bare_newline_where_stdout_would_write_crlf(
    cli_env: CleanEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows' text-mode stdout turns `\\n` into os.linesep, `\\r\\n` (io.TextIOWrapper,
    newline=None); `$(azure-artifacts-keyring token URL)` in Git Bash keeps the `\\r`."""
    monkeypatch.setenv("AZURE_DEVOPS_EXT_PAT", "pat-from-the-environment")
    for extra in ([], ["--json"]):
        raw = io.BytesIO()
        windows_stdout = io.TextIOWrapper(raw, encoding="utf-8", newline="\r\n")
        monkeypatch.setattr(sys, "stdout", windows_stdout)
        assert cli.main(["token", URL, *extra]) == 0
        windows_stdout.flush()
        assert raw.getvalue().endswith(b"\n") and b"\r" not in raw.getvalue()
        assert b"pat-from-the-environment" in raw.getvalue()


def test_status_piped_to_a_file_under_cp1252_does_not_raise(clean_env: CleanEnv, tmp_path: Path) -> None:
    """Python on Windows gives a redirected stdout the ANSI code page and strict errors (PEP 528
    covers the console only); PYTHONIOENCODING=cp1252 does the same here. Project names are
    Unicode in Azure DevOps."""
    state = tmp_path / "state"
    SecretCache(state / "secrets").put(
        "a" * 64,
        CachedSecret(
            kind="session",
            secret="s3cret",
            username="VssSessionToken",
            expires_at=4102444800,
            org="contoso",
            project="Ñandú ☃ 项目",
            feed="main",
            scopes=("vso.packaging",),
        ),
    )
    env = clean_env(KEYRINGS_AZURE_ARTIFACTS_STATE_DIR=str(state), PYTHONIOENCODING="cp1252")
    out = tmp_path / "status.txt"
    with out.open("wb") as handle:
        done = subprocess.run(
            [sys.executable, "-m", "keyrings.azure_artifacts", "status"],
            env={**env, "PYTHONPATH": os.pathsep.join(sys.path)},
            stdout=handle,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    text = out.read_bytes().decode("cp1252")
    assert "Ñandú ? ??" in text and "s3cret" not in text
