"""Will keyring ask this backend? In this process (what pip's import mode, twine, poetry, pdm
and hatch get) and through the `keyring` command on PATH (what uv and pip's subprocess mode
run). For `doctor`: each check returns (status, detail, fix) and prints nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ._log import one_line

if TYPE_CHECKING:
    from pathlib import Path

    from keyring.backend import KeyringBackend

OK, FAILED, SKIPPED = "ok", "failed", "skipped"
Outcome = tuple[str, str, str]  # status, detail, fix
BACKEND = "AzureArtifactsKeyring"
KEYRING_CLI_TIMEOUT = 30.0
INSTALL_CLI = "uv tool install keyring --with keyrings.azure-artifacts (or: pipx inject keyring ...)"
# Backends that switch keyring off, and the one that asks every backend (plugins included).
_DISABLED = ("keyring.backends.null.Keyring", "keyring.backends.fail.Keyring")
_CHAINER = "keyring.backends.chainer.ChainerBackend"


def ok(detail: str) -> Outcome:
    return OK, detail, ""


def skipped(detail: str) -> Outcome:
    return SKIPPED, detail, ""


def failed(detail: str, fix: str = "") -> Outcome:
    return FAILED, detail, fix


def in_process(url: str, environ: Mapping[str, str]) -> Outcome:
    """What keyring would use here: a backend named by the environment or its config file (which
    loads no plugin), else the highest priority; in the chainer, whoever answers before us."""
    from keyring import backend
    from keyring.util import platform_

    config = platform_.config_root() / "keyringrc.cfg"
    named = environ.get("PYTHON_KEYRING_BACKEND", "").strip()
    source, fix = "PYTHON_KEYRING_BACKEND", "unset PYTHON_KEYRING_BACKEND"
    if not named:
        named = _default_keyring(config)
        source, fix = f"default-keyring in {config}", f"remove default-keyring from [backend] in {config}"
    if named.startswith("keyrings.azure_artifacts."):
        return ok(f"{source} names this backend: keyring uses it alone")
    if named in _DISABLED:
        return failed(f"keyring is disabled: {source} = {named}", fix)
    if named and named != _CHAINER:
        return failed(f"{source} = {named}: keyring uses only that backend and loads no plugin", fix)
    rings = backend.get_all_keyring()
    ours = next((r for r in rings if type(r).__name__ == BACKEND), None)
    if ours is None:
        return failed("keyring finds no such backend in this Python", "pip install keyrings.azure-artifacts")
    chosen = max(rings, key=backend.by_priority)
    if named != _CHAINER and chosen is ours:
        alone = (
            ""
            if _storers(rings)
            else (
                "; it is the only viable backend, so `keyring set` cannot store passwords for other "
                "services here (pip install keyrings.alt, or an OS secret service)"
            )
        )
        return ok(f"keyring uses this backend (priority {ours.priority:g}; {_others(rings)}){alone}")
    if named != _CHAINER and type(chosen).__name__ != "ChainerBackend":
        return failed(
            f"keyring uses {_name(chosen)} alone (priority {chosen.priority:g} > {ours.priority:g})",
            f"set PYTHON_KEYRING_BACKEND={_CHAINER}, or uninstall {type(chosen).__module__}",
        )
    ahead = [r for r in rings if type(r).__name__ != "ChainerBackend" and r.priority > ours.priority]
    for ring in sorted(ahead, key=backend.by_priority, reverse=True):
        if _answers(ring, url):
            return failed(
                f"{_name(ring)} (priority {ring.priority:g}) answers first: it stores a credential for this URL",
                f"delete it: keyring del {url} USERNAME",
            )
    return ok(f"keyring's chainer asks this backend (priority {ours.priority:g}; {_others(rings)})")


def _default_keyring(path: Path) -> str:
    import configparser

    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
        return parser.get("backend", "default-keyring", fallback="").strip()
    except (configparser.Error, OSError, UnicodeDecodeError):
        return ""


def _answers(ring: KeyringBackend, url: str) -> bool:
    try:
        return ring.get_credential(url, None) is not None
    except Exception:  # the chainer would stop at it; either way it gives this URL nothing
        return False


def _name(ring: KeyringBackend) -> str:
    return f"{type(ring).__module__}.{type(ring).__name__}"


def _storers(rings: list[KeyringBackend]) -> list[KeyringBackend]:
    """Viable backends other than ours and the chainer, best first: where `keyring set` (and our
    PATs) can be stored."""
    from .pat.store import storage_backends

    return storage_backends(rings)


def _others(rings: list[KeyringBackend]) -> str:
    return "others: " + (", ".join(f"{_name(r)} {r.priority:g}" for r in _storers(rings)) or "none")


def on_path(environ: Mapping[str, str]) -> Outcome:
    """uv and pip --keyring-provider subprocess run the `keyring` on PATH: does it have us?"""
    found = shutil.which("keyring", path=environ.get("PATH", os.defpath))
    if found is None:
        return skipped(f"no `keyring` on PATH: only uv and pip's subprocess mode need one: {INSTALL_CLI}")
    try:
        listed = subprocess.run(
            [found, "--list-backends"],
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=KEYRING_CLI_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return failed(f"{found} --list-backends did not answer in {KEYRING_CLI_TIMEOUT:g} s")
    except OSError as exc:
        return failed(f"could not run {found}: {one_line(exc)}", INSTALL_CLI)
    if BACKEND in listed.stdout:
        return ok(f"{found} has this backend")
    others = ", ".join(line.split(" (")[0] for line in listed.stdout.splitlines() if line.strip())
    return failed(
        f"{found} lacks this backend (it has: {others or 'none'}): uv and pip --keyring-provider "
        "subprocess get no credential from it",
        INSTALL_CLI,
    )


# -- pip: which keyring provider it will use -------------------------------------------------------


def pip_python(environ: Mapping[str, str], *, site: bool = False) -> str:
    """The Python behind the pip a person runs: this one for `--site`, else the first `pip` on PATH
    (its shebang, or the `python` beside it), else this one."""
    import sys

    if site:
        return sys.executable
    found = shutil.which("pip", path=environ.get("PATH", os.defpath))
    if found is None:
        return sys.executable
    try:
        with open(found, "rb") as script:
            first = script.readline(512).decode("utf-8", "replace")
    except OSError:
        first = ""
    if first.startswith("#!") and "env " not in first:
        return first[2:].strip().split()[0] if first[2:].strip() else sys.executable
    beside = os.path.join(os.path.dirname(found), "python.exe" if os.name == "nt" else "python")
    return beside if os.path.exists(beside) else sys.executable


def importable_by(python: str, environ: Mapping[str, str]) -> bool:
    """Can this Python import keyring and this backend (what pip's `import` provider needs)?"""
    import sys

    same = os.path.normcase(os.path.abspath(python)) == os.path.normcase(os.path.abspath(sys.executable))
    if same:  # not realpath: two venvs share one interpreter binary but not their site-packages
        return True  # this very process imported both
    try:
        done = subprocess.run(
            [python, "-c", "import keyring, keyrings.azure_artifacts.backend"],
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=KEYRING_CLI_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def pip_never_asks(environ: Mapping[str, str], provider: str | None) -> str:
    """Why pip will never ask keyring ("" when it may): with `--no-input` / PIP_NO_INPUT and the
    default provider `auto`, pip's network/auth.py leaves keyring out."""
    no_input = environ.get("PIP_NO_INPUT", "").strip().lower() not in ("", "0", "false", "no", "off")
    if not no_input or (provider or "auto").strip().lower() != "auto":
        return ""
    return (
        "PIP_NO_INPUT is set and pip's keyring-provider is `auto`: pip then never asks keyring "
        "(also with --no-input)"
    )


def pip_provider_setting(environ: Mapping[str, str]) -> str:
    """pip's keyring-provider as configured: PIP_KEYRING_PROVIDER, else this environment's (site)
    or the user's pip configuration file, else pip's default `auto`."""
    import configparser
    import contextlib
    import sys

    from .tool_setup._paths import SetupError, pip_file

    value = environ.get("PIP_KEYRING_PROVIDER", "").strip()
    if value:
        return value.lower()
    files = [os.path.join(sys.prefix, "pip.ini" if os.name == "nt" else "pip.conf")]
    with contextlib.suppress(SetupError):  # PIP_CONFIG_FILE=os.devnull: no file is read
        files.append(str(pip_file(environ, site=False, key="keyring-provider")))
    for path in files:
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8-sig")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("install", "global"):
            for key in ("keyring-provider", "keyring_provider"):
                if parser.has_option(section, key):
                    return parser.get(section, key).strip().lower() or "auto"
    return "auto"


def pip_input(environ: Mapping[str, str]) -> Outcome:
    """For `doctor`: will pip ask keyring at all when it runs without input (CI)?"""
    provider = pip_provider_setting(environ)
    why = pip_never_asks(environ, provider)
    if why:
        return failed(why, "azure-artifacts-keyring setup URL --tool pip (writes keyring-provider = import)")
    if environ.get("PIP_NO_INPUT", "").strip().lower() in ("", "0", "false", "no", "off"):
        return ok(f"keyring-provider {provider}; with --no-input, only an explicit provider asks keyring")
    return ok(f"PIP_NO_INPUT is set and keyring-provider is {provider}: pip asks keyring")
