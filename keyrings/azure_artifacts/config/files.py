"""Find keyringrc.cfg and read our sections from it (stdlib only; memoised by mtime)."""

from __future__ import annotations

import configparser
import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..urls import HostRule, parse_host_pattern
from . import values
from .sections import Section, is_ours, parse_qualifiers

ENV_CONFIG = "KEYRINGS_AZURE_ARTIFACTS_CONFIG"


@dataclass(frozen=True)
class RawConfig:
    """Our sections as written (options unvalidated) plus the problems found while reading."""

    path: Path
    exists: bool
    sections: tuple[Section, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)


def config_path(environ: Mapping[str, str]) -> Path:
    """`KEYRINGS_AZURE_ARTIFACTS_CONFIG`, else keyring's own keyringrc.cfg."""
    explicit = environ.get(ENV_CONFIG, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    from keyring.util import platform_

    return Path(platform_.config_root()) / "keyringrc.cfg"


def problem(path: Path, section: str, option: str, what: str) -> str:
    """The one error format: `<file>: [<section>] <option>: <what is wrong>`."""
    return f"{path}: [{section}] {option}: {what}"


_memo: dict[Path, tuple[tuple[int, int], RawConfig]] = {}


def read_config(path: Path) -> RawConfig:
    """Read our sections; a missing file is an empty config, an unreadable one a problem."""
    try:
        stat = path.stat()
    except OSError:
        return RawConfig(path=path, exists=False)
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _memo.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    raw = _parse(path)
    _memo[path] = (stamp, raw)
    return raw


# Python 3.9's configparser ends a section name at the first `]` (3.10+ at the last), which cut
# `[artifacts host="[::1]:8443"]` short: read names the 3.10+ way on every version.
_SECTION_HEADER = re.compile(r"\[(?P<header>.+)\]")


def _parse(path: Path) -> RawConfig:
    parser = configparser.RawConfigParser(strict=True, default_section="\x00none", interpolation=None)
    parser.SECTCRE = _SECTION_HEADER
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except configparser.DuplicateSectionError as exc:
        return _broken(path, exc.section, "section", "written twice")
    except configparser.DuplicateOptionError as exc:
        return _broken(path, exc.section, exc.option, "set twice in one section")
    except configparser.Error as exc:
        return _broken(path, "?", "syntax", str(exc).splitlines()[0])
    except (OSError, UnicodeDecodeError) as exc:
        return _broken(path, "?", "file", f"cannot read: {exc.__class__.__name__}")
    sections: list[Section] = []
    problems: list[str] = []
    seen: dict[frozenset[tuple[str, str]], str] = {}
    for order, name in enumerate(parser.sections()):
        if not is_ours(name):
            continue
        qualifiers, bad = parse_qualifiers(name)
        problems.extend(problem(path, name, key, what) for key, what in bad)
        options = dict(parser.items(name))
        section = Section(name=name, qualifiers=qualifiers, options=options, order=order, valid=not bad)
        if not bad:
            other = seen.get(section.identity())
            if other is not None:
                problems.append(problem(path, name, "qualifiers", f"same qualifiers as [{other}]"))
            seen.setdefault(section.identity(), name)
        sections.append(section)
    return RawConfig(path=path, exists=True, sections=tuple(sections), problems=tuple(problems))


def _broken(path: Path, section: str, option: str, what: str) -> RawConfig:
    return RawConfig(path=path, exists=True, problems=(problem(path, section, option, what),))


def host_rules(raw: RawConfig) -> list[HostRule]:
    """Hosts declared by `host` sections. `path_prefix` and `allow_http` belong to the host:
    a narrower section (`host=... org=...`) that does not set them inherits them from the
    host's other sections instead of declaring a second, prefix-less rule. An invalid value
    never becomes a guessed prefix (the config error is reported elsewhere)."""
    prefixes: dict[tuple[str, Optional[int]], set[str]] = {}
    http: dict[tuple[str, Optional[int]], bool] = {}
    for section in raw.sections:
        value = section.qualifiers.get("host")
        if value is None:
            continue
        where = parse_host_pattern(value)
        found = prefixes.setdefault(where, set())
        http.setdefault(where, False)
        if "path_prefix" in section.options:
            with contextlib.suppress(ValueError):
                found.add(values.path_prefix(section.options["path_prefix"]))
        if "allow_http" in section.options:
            with contextlib.suppress(ValueError):
                http[where] = http[where] or values.boolean(section.options["allow_http"])
    rules = [
        HostRule(host=host, port=port, path_prefix=prefix, allow_http=http[(host, port)])
        for (host, port), found in prefixes.items()
        for prefix in sorted(found or {""})
    ]
    # Longest prefix first, so /tfs/collection wins over /tfs on the same host.
    rules.sort(key=lambda r: -len(r.path_prefix))
    return rules
