"""Text in, text out: each tool's settings written into its file with round-trip parsers.

tomlkit and configupdater keep comments, order and spacing, so an edit shows up as
a small diff and a second run finds nothing to do. Both load only here, when `setup` runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from .._log import one_line
from ..config.sections import is_ours, parse_qualifiers
from ._paths import SetupError

if TYPE_CHECKING:
    from configupdater import ConfigUpdater
    from configupdater import Section as IniSection
    from configupdater.option import Option
    from tomlkit import TOMLDocument


@dataclass(frozen=True)
class Feed:
    """What every tool's settings are made of; nothing secret."""

    index_url: str  # .../pypi/simple/
    upload_url: str  # .../pypi/upload/
    username: str  # handed to the tools that need one (uv, twine, hatch); Azure DevOps ignores it
    org: str
    name: str  # the index / source / repository name written into the tools' files

    def with_user(self, url: str) -> str:
        """uv asks keyring only when it knows a username: put one in the URL."""
        from urllib.parse import quote

        scheme, _, rest = url.partition("://")
        return f"{scheme}://{quote(self.username, safe='')}@{rest}"


def same_url(a: str, b: str) -> bool:
    """One index whatever the userinfo, case or trailing slash (org and feed compare case-insensitively)."""

    def key(url: str) -> str:
        scheme, _, rest = url.strip().partition("://")
        authority, slash, path = rest.partition("/")
        return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}".rstrip("/").casefold()

    return key(a) == key(b)


def edit(
    tool: str, path: Path, text: str, feed: Feed, *, primary: bool, pip_provider: str = "import"
) -> tuple[str, list[str]]:
    """New text for one of the files `tool` reads (by its name), plus notes for stderr."""
    if tool == "twine":
        return pypirc(text, path, feed)
    if tool == "pip":
        new = pip_conf(text, path, feed, primary=primary, provider=pip_provider)
    elif tool == "uv":
        new = uv(text, path, feed, primary=primary)
    elif path.name in ("poetry.toml", "pdm.toml"):
        new = _repository(text, path, [_REPOSITORIES[path.name], feed.name], feed.upload_url, {})
    elif tool == "poetry":
        new = poetry_pyproject(text, path, feed, primary=primary)
    elif tool == "pdm":
        new = pdm_pyproject(text, path, feed, primary=primary)
    elif path.name in ("pyproject.toml", "hatch.toml"):
        new = hatch_project(text, path, feed, primary=primary)
    else:
        new = hatch_config(text, path, feed)
    return new, []


# poetry.toml is `poetry config --local`, pdm.toml `pdm config --local`: where `publish -r NAME` looks.
_REPOSITORIES = {"poetry.toml": "repositories", "pdm.toml": "repository"}


# -- INI files: pip.conf, .pypirc, keyringrc.cfg -----------------------------------------------


def _ini(text: str, path: Path) -> ConfigUpdater:
    from configupdater import ConfigUpdater

    updater = ConfigUpdater()
    try:
        updater.read_string(text, source=str(path))
    except Exception as exc:  # configparser's and configupdater's parsing errors: one line
        raise SetupError(
            f"{path}: cannot parse the existing file ({one_line(exc)}); it was left as it is"
        ) from None
    return updater


def _section(updater: ConfigUpdater, name: str) -> IniSection:
    if not updater.has_section(name):
        blocks = updater.iter_blocks()
        if any(True for _ in blocks) and not str(updater).endswith("\n\n"):
            if not str(updater).endswith("\n"):
                updater.last_block.add_after.space()  # type: ignore[union-attr]
            updater.last_block.add_after.space()  # type: ignore[union-attr]
        updater.add_section(name)
    return updater[name]


def _option(section: IniSection, key: str) -> Optional[Option]:
    """An option by name, `extra-index-url` and `extra_index_url` alike (pip treats them as one)."""
    wanted = key.replace("_", "-").lower()
    for name in section.options():
        if name.replace("_", "-").lower() == wanted:
            return section[name]
    return None


def _set(section: IniSection, key: str, value: str) -> None:
    """Set or add `key`; a new option goes after the section's last option, not after trailing blanks."""
    option = _option(section, key)
    if option is not None:
        if option.value != value:
            option.value = value
        return
    names = section.options()
    if names:
        section[names[-1]].add_after.option(key, value)
    else:
        section[key] = value


def pip_conf(text: str, path: Path, feed: Feed, *, primary: bool, provider: str = "import") -> str:
    """`[global] index-url` (primary) or the feed added to `extra-index-url` (kept as a list), and
    `keyring-provider` when unset or `auto`: with `--no-input` / PIP_NO_INPUT (most CI jobs) pip's
    `auto` never asks keyring (pip's network/auth.py); an explicit provider keeps it asked."""
    updater = _ini(text, path)
    section = _section(updater, "global")
    index = _option(section, "index-url")
    if primary:
        _set(section, "index-url", feed.index_url)
    elif index is None or not index.value or not same_url(index.value, feed.index_url):
        extra = _option(section, "extra-index-url")
        if extra is None or not (extra.value or "").strip():
            _set(section, "extra-index-url", feed.index_url)
        elif not any(same_url(url, feed.index_url) for url in (extra.value or "").split()):
            extra.append(feed.index_url)
    current = _option(section, "keyring-provider") or _option(section, "keyring_provider")
    if current is None or (current.value or "").strip().lower() in ("", "auto"):
        _set(section, "keyring-provider", provider)
    return str(updater)


def pypirc(text: str, path: Path, feed: Feed) -> tuple[str, list[str]]:
    """A named repository with the upload URL and a username; listed in `[distutils] index-servers`."""
    updater = _ini(text, path)
    distutils = _section(updater, "distutils")
    servers = _option(distutils, "index-servers")
    if servers is None or not (servers.value or "").split():
        # Without the option twine's default list is `pypi testpypi`: keep both.
        _set(distutils, "index-servers", "")
        listed = _option(distutils, "index-servers")
        assert listed is not None
        listed.set_values(["pypi", "testpypi", feed.name])
    elif feed.name not in (servers.value or "").split():
        servers.append(feed.name)
    repository = _section(updater, feed.name)
    current = _option(repository, "repository")
    if current is not None and current.value and not same_url(current.value, feed.upload_url):
        raise SetupError(
            f"{path}: [{feed.name}] already uploads to {current.value}: choose another name with --name"
        )
    _set(repository, "repository", feed.upload_url)
    if _option(repository, "username") is None:
        _set(repository, "username", feed.username)
    notes = []
    if _option(repository, "password") is not None:
        notes.append(f"{path}: [{feed.name}] has a password: twine uses it instead of keyring; remove it")
    return str(updater), notes


def keyringrc(text: str, path: Path, org: str, tenant: str) -> str:
    """`tenant` in the `[artifacts org="..."]` section (found whatever its quoting), added when missing."""
    updater = _ini(text, path)
    wanted = frozenset({("org", org.casefold())})
    target = None
    for name in updater.sections():
        if not is_ours(name):
            continue
        qualifiers, bad = parse_qualifiers(name)
        if not bad and frozenset((k, v.casefold()) for k, v in qualifiers.items()) == wanted:
            target = updater[name]
            break
    if target is None:
        target = _section(updater, f'artifacts org="{org}"')
    _set(target, "tenant", tenant)
    return str(updater)


# -- TOML files: pyproject.toml, uv.toml, poetry.toml, pdm.toml, hatch.toml, hatch's config.toml --


def _toml(text: str, path: Path) -> TOMLDocument:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise SetupError(
            f"{path}: cannot parse the existing file ({one_line(exc)}); it was left as it is"
        ) from None


def _dumps(doc: TOMLDocument, original: str) -> str:
    """The edited text; blank lines a new table left at the very end are dropped (unless the file had them)."""
    import tomlkit

    text = tomlkit.dumps(doc)
    if text.endswith("\n\n") and not original.endswith("\n\n"):
        text = text.rstrip("\n") + "\n"
    return text


def _table(container: Any, keys: list[str], path: Path, *, header: bool = True) -> Any:
    """The table at `keys`, created without empty `[a]`/`[a.b]` headers (nor its own, unless `header`:
    a table that only holds sub-tables needs none)."""
    import tomlkit

    for depth, key in enumerate(keys):
        if key not in container:
            last = depth == len(keys) - 1
            container[key] = tomlkit.table(is_super_table=not (last and header))
        container = container[key]
        if not isinstance(container, Mapping):
            raise SetupError(f"{path}: {'.'.join(keys[: depth + 1])} is not a table")
    return container


def _upsert(parent: Any, key: str, values: dict[str, Any], path: Path, what: str) -> Any:
    """The array-of-tables entry for this feed: updated when its URL (or name) is there, else appended."""
    import tomlkit

    entries = parent.get(key)
    if entries is None:
        entries = tomlkit.aot()
        parent[key] = entries
    elif not isinstance(entries, list):
        raise SetupError(f"{path}: {what} is not a list of tables")
    tables = [entry for entry in entries if isinstance(entry, Mapping)]
    found: Any = next((t for t in tables if same_url(str(t.get("url", "")), values["url"])), None)
    if found is None:
        for table in tables:
            if table.get("name") == values["name"]:
                raise SetupError(
                    f"{path}: {what} '{values['name']}' already points at {table.get('url')}: "
                    "choose another name with --name"
                )
        inline = isinstance(entries, tomlkit.items.Array)
        found = tomlkit.inline_table() if inline else tomlkit.table()
        found.update(values)
        if not inline:
            found.add(tomlkit.nl())  # a blank line before whatever follows
        entries.append(found)
        return found
    for name, value in values.items():
        if name != "name" and found.get(name) != value:  # an entry found by URL keeps its name
            found[name] = value
    return found


def _set_key(table: Any, key: str, value: Any) -> None:
    if table.get(key) != value:
        table[key] = value


def uv(text: str, path: Path, feed: Feed, *, primary: bool) -> str:
    """`[[tool.uv.index]]` (or `[[index]]` in uv.toml) with a username and `authenticate = "always"`."""
    doc = _toml(text, path)
    root = doc if path.name == "uv.toml" else _table(doc, ["tool", "uv"], path)
    prefix = "" if path.name == "uv.toml" else "tool.uv."
    _set_key(root, "keyring-provider", "subprocess")
    values: dict[str, Any] = {
        "name": feed.name,
        "url": feed.with_user(feed.index_url),
        "publish-url": feed.with_user(feed.upload_url),
        "authenticate": "always",
    }
    if primary:
        values["default"] = True
        for entry in root.get("index", []):
            if entry.get("default") and not same_url(str(entry.get("url", "")), feed.index_url):
                raise SetupError(
                    f"{path}: index '{entry.get('name')}' is already the default: drop --primary "
                    "or remove its `default = true`"
                )
    _upsert(root, "index", values, path, f"{prefix}index")
    return _dumps(doc, text)


def poetry_pyproject(text: str, path: Path, feed: Feed, *, primary: bool) -> str:
    """`[[tool.poetry.source]]`: primary, or supplemental (asked for what PyPI does not have)."""
    doc = _toml(text, path)
    poetry = _table(doc, ["tool", "poetry"], path, header=False)
    values = {"name": feed.name, "url": feed.index_url, "priority": "primary" if primary else "supplemental"}
    _upsert(poetry, "source", values, path, "tool.poetry.source")
    return _dumps(doc, text)


def pdm_pyproject(text: str, path: Path, feed: Feed, *, primary: bool) -> str:
    """`[[tool.pdm.source]]`; named `pypi` when primary, which replaces PyPI in pdm."""
    doc = _toml(text, path)
    pdm = _table(doc, ["tool", "pdm"], path, header=False)
    values = {"name": "pypi" if primary else feed.name, "url": feed.index_url}
    _upsert(pdm, "source", values, path, "tool.pdm.source")
    return _dumps(doc, text)


def hatch_config(text: str, path: Path, feed: Feed) -> str:
    """hatch's config.toml: `[publish.index.repos.NAME]` with the URL and the user hatch needs to ask keyring."""
    if feed.name in ("main", "test"):
        raise SetupError(f"hatch reserves the repository name '{feed.name}': choose another with --name")
    return _repository(
        text, path, ["publish", "index", "repos", feed.name], feed.upload_url, {"user": feed.username}
    )


def _repository(text: str, path: Path, keys: list[str], url: str, extra: dict[str, str]) -> str:
    doc = _toml(text, path)
    parent = _table(doc, keys[:-1], path, header=False)
    current = parent.get(keys[-1])
    current_url = current if isinstance(current, str) else (current or {}).get("url")
    if current_url and not same_url(str(current_url), url):
        raise SetupError(
            f"{path}: {'.'.join(keys)} already points at {current_url}: choose another name with --name"
        )
    table = _table(doc, keys, path) if not isinstance(current, str) else None
    if table is None:  # hatch accepts `NAME = "url"`: keep that form, there is nowhere to put a user
        return text
    _set_key(table, "url", url)
    for key, value in extra.items():
        table.setdefault(key, value)
    return _dumps(doc, text)


def hatch_project(text: str, path: Path, feed: Feed, *, primary: bool) -> str:
    """The default environment's env-vars: pip's (or, with `installer = "uv"`, uv's) index variables."""
    doc = _toml(text, path)
    keys = ["envs", "default"] if path.name == "hatch.toml" else ["tool", "hatch", "envs", "default"]
    env = _table(doc, keys, path, header=False)
    variables = _table(env, ["env-vars"], path)
    if env.get("installer") == "uv":
        url = feed.with_user(feed.index_url)
        _set_key(variables, "UV_KEYRING_PROVIDER", "subprocess")
        primary_key, extra_key = "UV_DEFAULT_INDEX", "UV_INDEX"
    else:
        url = feed.index_url
        primary_key, extra_key = "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"
    if primary:
        if not same_url(str(variables.get(primary_key, "")), url):
            variables[primary_key] = url
        return _dumps(doc, text)
    if same_url(str(variables.get(primary_key, "")), url):
        return text
    listed = str(variables.get(extra_key, "")).split()
    if not any(same_url(item, url) for item in listed):
        variables[extra_key] = " ".join([*listed, url])
    return _dumps(doc, text)


def name_in_use(tool: str, files: list[tuple[Path, str]], feed: Feed) -> Optional[str]:
    """The name these files already give this feed (so a second run, and `[tool.uv.sources]`
    references to it, keep working); None when they give it none or cannot be read."""
    try:
        for path, text in files:
            found = _name_in(tool, path, text, feed)
            if found:
                return found
    except SetupError:
        return None  # the edit reports the unreadable file
    return None


def _name_in(tool: str, path: Path, text: str, feed: Feed) -> Optional[str]:
    if not text.strip():
        return None
    if tool == "twine":
        updater = _ini(text, path)
        for name in updater.sections():
            option = _option(updater[name], "repository")
            if option is not None and same_url(option.value or "", feed.upload_url):
                return name
        return None
    doc: Any = _toml(text, path)
    if path.name in ("poetry.toml", "pdm.toml", "config.toml"):
        keys = {"poetry.toml": ["repositories"], "pdm.toml": ["repository"]}.get(path.name)
        table: Any = doc
        for key in keys or ["publish", "index", "repos"]:
            table = table.get(key, {}) if isinstance(table, Mapping) else {}
        for name, value in table.items():
            url = (
                value
                if isinstance(value, str)
                else value.get("url", "")
                if isinstance(value, Mapping)
                else ""
            )
            if same_url(str(url), feed.upload_url):
                return str(name)
        return None
    root = doc if path.name == "uv.toml" else doc.get("tool", {}).get(tool, {})
    for entry in root.get("index" if tool == "uv" else "source", []):
        if isinstance(entry, Mapping) and same_url(str(entry.get("url", "")), feed.index_url):
            name = str(entry.get("name") or "")
            return name if name and name != "pypi" else None
    return None
