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
from .sections import Section, is_ours, loose_qualifiers, near_miss, parse_qualifiers

ENV_CONFIG = "KEYRINGS_AZURE_ARTIFACTS_CONFIG"


@dataclass(frozen=True)
class RawConfig:
    """Our sections as written (options unvalidated) plus the problems found while reading.

    `problems` concern the whole file (it cannot be parsed): every lookup fails on them.
    `section_problems` are (section name, message): they fail only the lookups the section may
    apply to. `near_misses` are sections that look like ours but are not (`[artifact ...]`)."""

    path: Path
    exists: bool
    sections: tuple[Section, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)
    section_problems: tuple[tuple[str, str], ...] = ()
    near_misses: tuple[str, ...] = ()
    hosts_mentioned: tuple[str, ...] = ()  # host="..." values found in a file that cannot be parsed
    near_miss_hosts: tuple[tuple[str, str], ...] = ()  # (host, message) of near-miss sections

    def all_problems(self) -> list[str]:
        return [*self.problems, *(what for _name, what in self.section_problems)]


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
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        what = f"line {line} (byte {exc.start}): not UTF-8 text ({exc.reason}); save the file as UTF-8"
        return _broken(path, what, data.decode("utf-8", "replace"))
    except OSError as exc:
        return _broken(path, f"cannot read: {exc.__class__.__name__}", "")
    unclosed = _unclosed_header(text)
    if unclosed:
        return _broken(path, unclosed, text)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        return _broken(path, _parse_error(exc), text)
    sections: list[Section] = []
    problems: list[tuple[str, str]] = []
    near: list[str] = []
    hosts: list[tuple[str, str]] = []
    seen: dict[frozenset[tuple[str, str]], str] = {}
    for order, name in enumerate(parser.sections()):
        if not is_ours(name):
            hint = near_miss(name)
            if hint:
                near.append(problem(path, name, "section", hint))
                hosts += [(m.group(1), near[-1]) for m in _HOST_IN_HEADER.finditer(f"[{name.strip()}]")]
            continue
        qualifiers, bad = parse_qualifiers(name)
        problems.extend((name, problem(path, name, key, what)) for key, what in bad)
        options = dict(parser.items(name))
        section = Section(
            name, qualifiers, options, order, valid=not bad, loose=loose_qualifiers(name) if bad else {}
        )
        if not bad:
            other = seen.get(section.identity())
            if other is not None:
                problems.append((name, problem(path, name, "qualifiers", f"same qualifiers as [{other}]")))
            seen.setdefault(section.identity(), name)
        sections.append(section)
    return RawConfig(
        path, True, tuple(sections), (), tuple(problems), tuple(near), near_miss_hosts=tuple(hosts)
    )


def _parse_error(exc: configparser.Error) -> str:
    """configparser's error as `line N: what`, in words a person can act on."""
    if isinstance(exc, configparser.DuplicateSectionError):
        return f"line {exc.lineno}: section [{exc.section}] is written twice; merge the two"
    if isinstance(exc, configparser.DuplicateOptionError):
        return f"line {exc.lineno}: [{exc.section}] sets {exc.option} twice; keep one"
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"line {exc.lineno}: {exc.line.strip()!r} comes before any [section] header"
    if isinstance(exc, configparser.ParsingError) and exc.errors:
        lineno, line = exc.errors[0]
        if line[:1] in "'\"":  # configparser keeps the line's repr
            import ast

            line = str(ast.literal_eval(line))
        more = f" (+{len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""
        return f"line {lineno}: cannot read {line.rstrip()!r}: write option = value{more}"
    return str(exc).splitlines()[0]


def _unclosed_header(text: str) -> str:
    """configparser reads `[artifacts host="x"` (no `]`) as an option of the section above."""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("[") and not _SECTION_HEADER.match(stripped):
            return f"line {number}: section header {stripped} is not closed: end it with ]"
    return ""


_HOST_IN_HEADER = re.compile(r"""\[\s*artifacts?\b[^\n]*?\bhost\s*=\s*["']?([^"'\s\]]+)""", re.IGNORECASE)


def _broken(path: Path, what: str, text: str) -> RawConfig:
    # The file cannot be read as a whole; the hosts its sections name still tell a lookup that
    # this URL was meant to be ours (so it reports the file rather than "not a feed").
    hosts = tuple(dict.fromkeys(m.group(1) for m in _HOST_IN_HEADER.finditer(text)))
    return RawConfig(path=path, exists=True, problems=(f"{path}: {what}",), hosts_mentioned=hosts)


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
