"""`azure-artifacts-keyring setup URL --tool T`: write one tool's configuration for a feed.

`prepare()` reads the files and computes their new text (nothing is written); `apply()`
writes the ones that change, atomically. No secret is ever written: the tools ask
keyring (this backend) for the credential each time. Stdlib only at import time:
tomlkit and configupdater load when `setup` runs.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from . import _paths
from ._paths import SetupError

if TYPE_CHECKING:
    from ..urls import FeedRef
    from ._edits import Feed

__all__ = ["DESCRIPTION", "TOOLS", "FileEdit", "Setup", "SetupError", "apply", "prepare", "usage_problem"]

TOOLS = ("pip", "uv", "poetry", "pdm", "hatch", "twine")
DEFAULT_USERNAME = "VssSessionToken"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # uv's rule for index names; fine for the others
_PUBLISH = {
    "uv": "uv publish --index {name}",
    "poetry": "poetry publish -r {name}",
    "pdm": "pdm publish -r {name}",
    "hatch": "hatch publish -r {name}",
    "twine": "twine upload -r {name} dist/*",
}


@dataclass(frozen=True)
class FileEdit:
    """One file's text before (None: the file does not exist) and after; `notes` go to stderr."""

    path: Path
    old: Optional[str]
    new: str
    notes: tuple[str, ...] = field(default=())
    encoding: str = "utf-8"  # written back as it was read (pip.ini in the ANSI code page)

    @property
    def changed(self) -> bool:
        return self.new != (self.old or "")

    def diff(self) -> str:
        import difflib

        before = (self.old or "").splitlines(keepends=True)
        after = self.new.splitlines(keepends=True)
        source = str(self.path) if self.old is not None else "/dev/null"
        return "".join(difflib.unified_diff(before, after, source, str(self.path)))


def _plan(
    feed: Feed,
    tool: str,
    primary: bool,
    tenant: Optional[str],
    site: bool,
    cwd: Path,
    environ: Mapping[str, str],
    file: Optional[Path],
    *,
    named: bool,
) -> tuple[Feed, list[FileEdit]]:
    """The feed (under the name the files already give it, unless --name) and the edits."""
    import dataclasses

    from . import _edits

    paths = _tool_files(tool, primary, site, cwd, environ, file)
    fallback = _paths.pip_encoding() if tool == "pip" else None
    texts = [(path, *_read_encoded(path, fallback)) for path in paths]
    if not named:
        in_use = _edits.name_in_use(tool, [(p, t) for p, t, _ in texts if t is not None], feed)
        feed = dataclasses.replace(feed, name=in_use or feed.name)
    provider, provider_notes = pip_provider(environ, site) if tool == "pip" else ("import", [])
    edits: list[FileEdit] = []
    for path, old, encoding in texts:
        new, notes = _edits.edit(tool, path, old or "", feed, primary=primary, pip_provider=provider)
        edits.append(FileEdit(path, old, new, tuple(notes + provider_notes), encoding))
    if tenant is not None:
        edits.append(_tenant_edit(feed, tenant, environ))
    return feed, edits


def _tool_files(
    tool: str, primary: bool, site: bool, cwd: Path, environ: Mapping[str, str], file: Optional[Path]
) -> list[Path]:
    """The files a tool reads the settings from, in the order they are edited."""
    if tool == "pip":
        key = "index-url" if primary else "extra-index-url"
        return [file or _paths.pip_file(environ, site=site, key=key)]
    if tool == "uv":
        return [_paths.uv_file(cwd, file)]
    if tool == "twine":
        return [file or _paths.pypirc(environ)]
    project = _paths.project_dir(cwd)
    if tool in ("poetry", "pdm"):
        return [project / "pyproject.toml", project / f"{tool}.toml"]
    hatch_toml = project / "hatch.toml"  # when there, it is what hatch reads the environments from
    envs = hatch_toml if hatch_toml.is_file() else project / "pyproject.toml"
    return [envs, _paths.hatch_config(environ)]


def _tenant_edit(feed: Feed, tenant: str, environ: Mapping[str, str]) -> FileEdit:
    from ..config import values
    from ..config.files import config_path
    from . import _edits

    try:
        tenant = values.tenant(tenant)
    except ValueError as exc:
        raise SetupError(f"--tenant: {exc}") from None
    path = config_path(environ)
    old = _read(path)
    return FileEdit(path, old, _edits.keyringrc(old or "", path, feed.org, tenant))


def feed_for(url: str, environ: Mapping[str, str], name: Optional[str] = None) -> Feed:
    """The feed's index and upload URLs, username and the name to write, from one of our URLs."""
    from .. import service
    from ._edits import Feed

    resolution = service.resolve(url, environ)
    if resolution is None:
        raise SetupError(
            f"{url} is not an Azure Artifacts feed URL (azure-artifacts-keyring explain URL says why)"
        )
    ref = resolution.ref
    if not ref.feed:
        raise SetupError(
            f"{url} names no feed: give the feed's URL, like "
            "https://pkgs.dev.azure.com/ORG/_packaging/FEED/pypi/simple/"
        )
    if name is not None and not _NAME.match(name):
        raise SetupError(f"--name '{name}': use letters, digits, '.', '-' and '_' only")
    username = DEFAULT_USERNAME
    if not resolution.errors:
        username = resolution.settings.username or DEFAULT_USERNAME
    return Feed(
        index_url=_feed_base(ref, view=True) + "/pypi/simple/",
        upload_url=_feed_base(ref, view=False) + "/pypi/upload/",
        username=username,
        org=ref.org,
        name=name or _default_name(ref.org, ref.feed),
    )


def _default_name(org: str, feed: str) -> str:
    """`{org}-{feed}`: unique enough to sit next to other indexes, and never hatch's reserved
    `main`/`test` nor pdm's `pypi`."""
    return re.sub(r"[^a-z0-9._-]+", "-", f"{org}-{feed}".lower()).strip("-._")


def _feed_base(ref: FeedRef, *, view: bool) -> str:
    """`{org URL}[/{project}]/_packaging/{feed}[@{view}]`, percent-encoded (project names have spaces)."""
    from urllib.parse import quote

    assert ref.feed
    base = ref.org_url()
    if ref.project:
        base += "/" + quote(ref.project, safe="")
    feed = quote(ref.feed, safe="") + (f"@{quote(ref.view, safe='')}" if view and ref.view else "")
    return f"{base}/_packaging/{feed}"


def _read(path: Path) -> Optional[str]:
    """A file's text with `\\n` line ends (CRLF is put back on write); None when it does not exist."""
    return _read_encoded(path)[0]


def _read_encoded(path: Path, fallback: Optional[str] = None) -> tuple[Optional[str], str]:
    """(text, encoding): UTF-8, else `fallback` (pip's own encoding for pip.conf / pip.ini)."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None, "utf-8"
    except OSError as exc:
        raise SetupError(f"{path}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    try:
        text, encoding = _paths.decode(data, fallback)
    except (UnicodeDecodeError, LookupError):
        wanted = "UTF-8" if fallback is None else f"UTF-8 or {fallback}"
        raise SetupError(f"{path}: not {wanted} text; it was left as it is") from None
    return text.replace("\r\n", "\n"), encoding


def apply(edits: Iterable[FileEdit]) -> list[Path]:
    """Write the edits that change something, each atomically; every target is checked first, so a
    failure leaves every file as it was. Returns the paths written."""
    from ..statefs import writable

    changed = [edit for edit in edits if edit.changed]
    targets = [(edit, Path(os.path.realpath(edit.path))) for edit in changed]  # a symlink stays one
    for edit, target in targets:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SetupError(
                f"{edit.path}: cannot write ({exc.strerror or exc.__class__.__name__})"
            ) from None
        # A directory is tested by trying: os.access(dir, W_OK) is always true on Windows.
        if not writable(target.parent) or (target.exists() and not os.access(target, os.W_OK)):
            raise SetupError(f"{edit.path}: cannot write (permission denied)")
    for edit, target in targets:
        _write(edit, target)
    return [edit.path for edit in changed]


def _write(edit: FileEdit, target: Path) -> None:
    crlf = edit.old is not None and b"\r\n" in target.read_bytes()
    try:
        data = (edit.new.replace("\n", "\r\n") if crlf else edit.new).encode(edit.encoding)
    except UnicodeEncodeError:
        raise SetupError(
            f"{edit.path}: the change cannot be written in its {edit.encoding} encoding"
        ) from None
    if target.exists():
        mode = target.stat().st_mode & 0o7777
    else:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    handle, temporary = tempfile.mkstemp(dir=str(target.parent), prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise SetupError(f"{edit.path}: cannot write ({exc.strerror or exc.__class__.__name__})") from None


# -- command line ----------------------------------------------------------------------------------

DESCRIPTION = """\
Write one tool's configuration for an Azure Artifacts feed, the way that tool's docs describe,
keeping the file's comments and layout. Nothing secret is written: the tool asks keyring (this
backend) each time. Running it again changes nothing. Files:
  pip     pip.conf / pip.ini where `pip config set` writes (PIP_CONFIG_FILE when it names a file),
          or the environment's (--site): extra-index-url, or index-url with --primary
  uv      [[tool.uv.index]] in pyproject.toml (uv.toml when the project has one) with a username
          in the URL, authenticate = "always", publish-url, and keyring-provider = "subprocess"
  poetry  [[tool.poetry.source]] in pyproject.toml (supplemental, or primary) and the upload
          repository in poetry.toml (poetry publish -r NAME)
  pdm     [[tool.pdm.source]] in pyproject.toml (named pypi with --primary) and the upload
          repository in pdm.toml (pdm publish -r NAME)
  hatch   the default environment's PIP_EXTRA_INDEX_URL / PIP_INDEX_URL (uv's variables with
          installer = "uv") in pyproject.toml or hatch.toml, and [publish.index.repos.NAME] with a
          user in hatch's own config.toml (hatch publish -r NAME)
  twine   a [NAME] repository with the upload URL and a username in ~/.pypirc (twine upload -r NAME)
"""


@dataclass(frozen=True)
class Setup:
    """What `setup` would do: the edits (nothing written yet), notes for the person, and the
    command that publishes to the feed with this tool (None when it does not publish)."""

    feed: Feed
    edits: list[FileEdit]
    notes: list[str]
    publish: Optional[str]


def prepare(
    url: str,
    tool: str,
    *,
    primary: bool = False,
    tenant: Optional[str] = None,
    site: bool = False,
    cwd: Path,
    environ: Mapping[str, str],
    name: Optional[str] = None,
    file: Optional[Path] = None,
) -> Setup:
    """Plan the edits and gather what to tell the person; reads files, writes nothing."""
    problem = usage_problem(tool, site, file)
    if problem:
        raise SetupError(problem)
    if tool not in TOOLS:
        raise SetupError(f"unknown tool '{tool}': choose one of {', '.join(TOOLS)}")
    feed, edits = _plan(
        feed_for(url, environ, name), tool, primary, tenant, site, cwd, environ, file, named=name is not None
    )
    notes = [note for edit in edits for note in edit.notes]
    if tool == "uv":
        note = keyring_on_path_note(environ)
        if note:
            notes.append(note)
    publish = _PUBLISH[tool].format(name=feed.name) if tool in _PUBLISH else None
    return Setup(feed, edits, notes, publish)


def usage_problem(tool: str, site: bool, file: Optional[Path]) -> str:
    """Options that do not go together ("" when fine)."""
    if site and tool != "pip":
        return "--site is for --tool pip"
    if site and file:
        return "--site and --file name different files: give one"
    if file and tool not in ("pip", "uv", "twine"):
        return f"--file is for pip, uv and twine ({tool} writes more than one file)"
    return ""


def pip_provider(environ: Mapping[str, str], site: bool) -> tuple[str, list[str]]:
    """`import` when the pip that reads the file can import this backend, else `subprocess` (the
    `keyring` on PATH), with what to tell the person about it."""
    from ..keyring_checks import importable_by, pip_python

    python = pip_python(environ, site=site)
    if importable_by(python, environ):
        return "import", []
    note = keyring_on_path_note(environ)
    told = f"pip's Python ({python}) cannot import this backend: keyring-provider = subprocess"
    return "subprocess", [f"{told}; {note}" if note else told]


def keyring_on_path_note(environ: Mapping[str, str]) -> str:
    """uv runs `keyring` from PATH: say so when there is none, or it lacks this backend ("" when fine)."""
    from ..keyring_checks import INSTALL_CLI, on_path

    status, detail, fix = on_path(environ)
    if status == "ok":
        return ""
    if status == "skipped":
        return f"uv runs `keyring` from PATH and there is none: {fix or INSTALL_CLI}"
    return f"{detail}: {fix or INSTALL_CLI}"
