"""Files as Windows and macOS users have them, simulated on Linux: a token file written by
Windows PowerShell 5.1, pip.ini in the ANSI code page, pip's configuration directory on macOS."""

from __future__ import annotations

import codecs
import configparser
import sys
from pathlib import Path

import pytest

from keyrings.azure_artifacts import tool_setup
from keyrings.azure_artifacts.credentials.static import read_token_file
from keyrings.azure_artifacts.errors import AuthenticationFailed
from keyrings.azure_artifacts.tool_setup import _paths

FEED = "https://pkgs.dev.azure.com/contoso/_packaging/Main/pypi/simple/"
PAT = "x" * 52


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF16_LE + f"{PAT}\r\n".encode("utf-16-le"),  # `$pat > file`, `Out-File` in 5.1
        codecs.BOM_UTF16_BE + f"{PAT}\r\n".encode("utf-16-be"),  # `Out-File -Encoding BigEndianUnicode`
        codecs.BOM_UTF8 + f"{PAT}\r\n".encode(),  # `Out-File -Encoding utf8` in 5.1
        f"{PAT}\n".encode(),  # PowerShell 7, `echo $PAT > file` in bash
    ],
)
def test_token_files_as_powershell_writes_them(tmp_path: Path, data: bytes) -> None:
    """Windows PowerShell 5.1 writes UTF-16LE with a BOM for `>` and `Out-File` (Microsoft Learn,
    about_Character_Encoding: "Unicode" is their default there; PowerShell 7 writes UTF-8)."""
    path = tmp_path / "pat.txt"
    path.write_bytes(data)
    path.chmod(0o600)
    assert read_token_file(path) == PAT


def test_a_file_in_neither_encoding_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "pat.txt"
    path.write_bytes(b"\xc3\x28" + PAT.encode())
    path.chmod(0o600)
    with pytest.raises(AuthenticationFailed, match="is not UTF-8 or UTF-16 text"):
        read_token_file(path)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.delenv("PIP_CONFIG_FILE", raising=False)
    return {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def test_on_macos_pip_conf_goes_to_dot_config_whatever_xdg_says(
    home: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip on macOS: `~/Library/Application Support/pip` when that directory exists, else
    `~/.config/pip`; XDG_CONFIG_HOME is not read (pip/_internal/utils/appdirs.py
    `_macos_user_config_dir`; pip docs, "Configuration": macOS user config file)."""
    monkeypatch.setattr(sys, "platform", "darwin")
    path = _paths.pip_file(home, site=False, key="extra-index-url")
    assert path == Path(home["HOME"]) / ".config" / "pip" / "pip.conf"
    app_support = Path(home["HOME"]) / "Library" / "Application Support" / "pip"
    app_support.mkdir(parents=True)
    assert _paths.pip_file(home, site=False, key="extra-index-url") == app_support / "pip.conf"


def test_on_linux_pip_conf_follows_xdg(home: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    assert _paths.pip_file(home, site=False, key="x") == Path(home["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"


def test_pip_ini_in_the_ansi_code_page_is_edited_and_kept_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip reads its files in the locale's encoding unless in UTF-8 mode (pip/_internal/
    configuration.py `_construct_parser`, `get_locale_encoding()`): cp1252 on a Western Windows.
    A comment with `é` written by Notepad in ANSI is therefore a file pip accepts."""
    monkeypatch.setattr(_paths, "pip_encoding", lambda: "cp1252")
    conf = tmp_path / "pip.ini"
    ansi = "[global]\r\n; Proxy de l'équipe\r\ntimeout = 30\r\n".encode("cp1252")
    conf.write_bytes(ansi)
    [edit] = tool_setup.prepare(FEED, "pip", cwd=tmp_path, environ={"HOME": str(tmp_path)}, file=conf).edits
    assert edit.encoding == "cp1252"
    tool_setup.apply([edit])
    data = conf.read_bytes()
    assert data.startswith(ansi)  # what was there is byte for byte the same
    parser = configparser.RawConfigParser()
    parser.read(conf, encoding="cp1252")  # as pip reads it
    assert parser.get("global", "extra-index-url") == FEED


def test_pip_conf_in_utf8_stays_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_paths, "pip_encoding", lambda: "cp1252")
    conf = tmp_path / "pip.conf"
    conf.write_bytes("[global]\n# équipe\n".encode())
    [edit] = tool_setup.prepare(FEED, "pip", cwd=tmp_path, environ={"HOME": str(tmp_path)}, file=conf).edits
    tool_setup.apply([edit])
    assert conf.read_bytes().decode("utf-8").startswith("[global]\n# équipe\n")


def test_other_tools_files_must_still_be_utf8(tmp_path: Path) -> None:
    """Only pip's files get pip's fallback; the others keep the UTF-8 rule (TOML is UTF-8 by definition)."""
    pypirc = tmp_path / ".pypirc"
    pypirc.write_bytes("[distutils]\n; équipe\n".encode("cp1252"))
    with pytest.raises(tool_setup.SetupError, match="not UTF-8 text; it was left as it is"):
        tool_setup.prepare(FEED, "twine", cwd=tmp_path, environ={"HOME": str(tmp_path)}, file=pypirc)
