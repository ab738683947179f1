"""What tests import: the clean environment, the in-process CLI runner, our log records, markers,
the service principal of the shared `fake` fixture. conftest.py only turns these into fixtures.

Importable as `helpers` wherever conftest.py is: pytest's default (prepend) import mode puts the
first directory without an `__init__.py` above each test module and conftest (here `tests/`) on
sys.path, under plain pytest, pytest-xdist workers and tox alike.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Optional

import pytest

from keyrings.azure_artifacts._log import LOGGER_NAME

# The service principal the shared `fake` fixture registers (client secret flow).
APP_ID = "0f0f0f0f-0000-4000-8000-00000000f001"
APP_SECRET = "fake-app-secret-Zq8xW2"

VENV_BIN = Path(sys.executable).parent
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE", "PIP_CERT")
# Kept from the machine; everything else (PIP_*, UV_*, AZURE_*, the CA variables, proxies, CI,
# PYTHON_KEYRING_BACKEND, DISPLAY, ...) is dropped so no test depends on who runs it.
_KEEP = (
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "TZ",
    "SYSTEMROOT",
    "COMSPEC",
    "PATHEXT",
    "WINDIR",
    "TEMP",
    "TMP",
)
# Tests of POSIX permission bits, owners or `#!` scripts: Windows has none of them.
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits, owners or #! scripts")


class CleanEnv:
    """An environment built from scratch under one test's tmp_path.

    Own HOME and XDG directories, PATH = an empty tmp bin directory (for wrappers a test
    adds) + this interpreter's bin (python, pip, keyring, uv, twine; no `az`, which the auto
    chain would try), no pip/uv configuration from the machine, loopback never proxied, and
    no CA variable unless `ca` is given (then the CA of the fake in every variable a client
    reads). The same dict serves a subprocess and an in-process `service.lookup(..., environ)`.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin_dir = root / "bin"
        self.home = root / "home"
        self.config_path = root / "keyringrc.cfg"
        self.state_dir = root / "state"
        # Where keyring itself looks for keyringrc.cfg on Linux: XDG_CONFIG_HOME/python_keyring.
        self.keyring_config = root / "config" / "python_keyring" / "keyringrc.cfg"

    def __call__(
        self, config: Optional[str] = None, *, ca: Optional[str] = None, **extra: str
    ) -> dict[str, str]:
        """The environment; `config` (text) is written to keyringrc.cfg and named by
        KEYRINGS_AZURE_ARTIFACTS_CONFIG, `extra` variables go on top."""
        dirs = {name: self.root / name for name in ("config", "data", "cache", "appdata", "localappdata")}
        for directory in (self.bin_dir, self.home, *dirs.values()):
            directory.mkdir(parents=True, exist_ok=True)
        env = {name: os.environ[name] for name in _KEEP if name in os.environ}
        env.update(
            PATH=os.pathsep.join([str(self.bin_dir), str(VENV_BIN)]),
            HOME=str(self.home),
            USERPROFILE=str(self.home),  # Windows: the home directory, and keyring's and pip's roots
            APPDATA=str(dirs["appdata"]),
            LOCALAPPDATA=str(dirs["localappdata"]),
            XDG_CONFIG_HOME=str(dirs["config"]),
            XDG_DATA_HOME=str(dirs["data"]),
            XDG_CACHE_HOME=str(dirs["cache"]),
            PIP_CONFIG_FILE=os.devnull,
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PYTHONNOUSERSITE="1",
            PYTHONDONTWRITEBYTECODE="1",
            UV_NO_CONFIG="1",
            UV_CACHE_DIR=str(dirs["cache"] / "uv"),
            UV_PYTHON_DOWNLOADS="never",
            UV_NO_PROGRESS="1",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        if ca is not None:
            env.update(REQUESTS_CA_BUNDLE=ca, SSL_CERT_FILE=ca, PIP_CERT=ca)
        if config is not None:
            self.config_path.write_text(config, encoding="utf-8")
            env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"] = str(self.config_path)
        env.update(extra)
        return env

    def for_lookup(
        self, config: Optional[str] = None, *, ca: Optional[str] = None, **extra: str
    ) -> dict[str, str]:
        """The same, for an in-process `service.lookup(url, user, environ)`: plus our state
        directory under root (the default is keyring's data root, which reads os.environ)."""
        return self(config, ca=ca, **{"KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": str(self.state_dir), **extra})

    def install(self, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
        """Make os.environ exactly `env` for this test (requests and azure-core read os.environ)."""
        for name in list(os.environ):
            if name not in env:
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`azure-artifacts-keyring ARGV` in this process: (exit code, stdout, stderr)."""
    from keyrings.azure_artifacts import cli

    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class Logged:
    """The messages our logger emitted during the test (read from caplog, at the logger's level)."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def lines(self, level: int = logging.NOTSET) -> list[str]:
        return [r.getMessage() for r in self.caplog.records if r.name == LOGGER_NAME and r.levelno >= level]

    def warnings(self) -> list[str]:
        """What pip and uv users see on stderr."""
        return self.lines(logging.WARNING)
