"""Where each tool reads the files `setup` writes: the tools' own lookup rules, restated (stdlib only).

Restated rather than imported: pip, hatch and twine need not be importable from the
environment that runs `azure-artifacts-keyring`, and their internals are not an API.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

from ..errors import AzureArtifactsError


class SetupError(AzureArtifactsError):
    """`setup` cannot do what was asked; the message is one line that names the file or the input."""


def home(environ: Mapping[str, str]) -> Path:
    """The home directory the tools will see (HOME / USERPROFILE, as `Path.home()` reads them)."""
    value = environ.get("USERPROFILE" if sys.platform == "win32" else "HOME", "")
    return Path(value) if value else Path.home()


def _xdg_config(environ: Mapping[str, str]) -> Path:
    value = environ.get("XDG_CONFIG_HOME", "").strip()
    return Path(value) if value and os.path.isabs(value) else home(environ) / ".config"


def pip_file(environ: Mapping[str, str], *, site: bool, key: str) -> Path:
    """The pip configuration file that `pip config set [--site]` would edit for `global.<key>`.

    pip reads the legacy `~/.pip/pip.conf` and then the XDG / AppData file (which wins);
    with `PIP_CONFIG_FILE` naming an existing file it reads that one instead of both, and
    with `PIP_CONFIG_FILE=os.devnull` no file at all (then nothing here would take effect).
    """
    basename = "pip.ini" if sys.platform == "win32" else "pip.conf"
    if site:
        return Path(sys.prefix) / basename
    env_file = environ.get("PIP_CONFIG_FILE", "")
    if env_file == os.devnull:
        raise SetupError(
            f"PIP_CONFIG_FILE is {os.devnull}: pip reads no configuration file at all; unset it first"
        )
    if env_file and os.path.exists(env_file):
        return Path(env_file)
    if sys.platform == "win32":
        legacy = home(environ) / "pip" / basename
        new = Path(environ.get("APPDATA") or home(environ) / "AppData" / "Roaming") / "pip" / basename
    else:
        legacy = home(environ) / ".pip" / basename
        new = _xdg_config(environ) / "pip" / basename
        if sys.platform == "darwin":
            app_support = home(environ) / "Library" / "Application Support" / "pip"
            new = app_support / basename if app_support.is_dir() else new
    existing = [path for path in (new, legacy) if path.is_file()]
    for path in existing:  # highest priority first: the file that already sets the key
        if _ini_sets(path, key):
            return path
    return existing[0] if existing else new


def _ini_sets(path: Path, key: str) -> bool:
    """A cheap look for `key` (either spelling) in a file's lines; parsing errors surface later."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return False
    spellings = {key, key.replace("-", "_")}
    for line in text.splitlines():
        name = line.split("=", 1)[0].split(":", 1)[0].strip().lower()
        if name in spellings and not line[:1].isspace():
            return True
    return False


def hatch_config(environ: Mapping[str, str]) -> Path:
    """hatch's own config.toml (`hatch config find`): `HATCH_CONFIG`, else platformdirs' config dir."""
    explicit = environ.get("HATCH_CONFIG", "").strip()
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        base = Path(environ.get("LOCALAPPDATA") or home(environ) / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home(environ) / "Library" / "Application Support"
    else:
        base = _xdg_config(environ)
    return base / "hatch" / "config.toml"


def pypirc(environ: Mapping[str, str]) -> Path:
    """twine's default `--config-file`: `~/.pypirc`."""
    return home(environ) / ".pypirc"


def project_dir(cwd: Path, names: tuple[str, ...] = ("pyproject.toml",)) -> Path:
    """The nearest directory at or above `cwd` holding one of `names` (how the tools find a project)."""
    for directory in (cwd, *cwd.parents):
        if any((directory / name).is_file() for name in names):
            return directory
    wanted = " or ".join(names)
    # Only uv's setup writes a single project file that --file can name; poetry, pdm and hatch
    # write more than one (usage_problem refuses --file for them).
    other = " (or pass --file)" if "uv.toml" in names else ""
    raise SetupError(f"no {wanted} in {cwd} or above: run setup inside your project{other}")


def uv_file(cwd: Path, explicit: Optional[Path]) -> Path:
    """uv.toml when the project has one (uv then ignores [tool.uv] in pyproject.toml), else pyproject.toml."""
    if explicit is not None:
        return explicit
    directory = project_dir(cwd, ("uv.toml", "pyproject.toml"))
    found = directory / "uv.toml"
    return found if found.is_file() else directory / "pyproject.toml"
