"""Section names -> qualifiers, matching against a FeedRef, and weights (pure, stdlib only)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from ..urls import FeedRef, host_matches, parse_host_pattern

QUALIFIER_WEIGHTS = {"feed": 8, "project": 4, "org": 2, "view": 2, "host": 1}
SECTION_PREFIX = "artifacts"

_PAIR = re.compile(r"""\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S*))""")


@dataclass(frozen=True)
class Section:
    """One `[artifacts ...]` section: its name as written, qualifiers, raw options, file order."""

    name: str
    qualifiers: dict[str, str]
    options: dict[str, str] = field(default_factory=dict)
    order: int = 0
    valid: bool = True  # False when the name has a qualifier problem: then it never applies
    loose: dict[str, str] = field(default_factory=dict)  # an invalid name's known qualifiers, read leniently

    @property
    def weight(self) -> int:
        return sum(QUALIFIER_WEIGHTS[q] for q in self.qualifiers)

    def identity(self) -> frozenset[tuple[str, str]]:
        """Qualifier set, order-free and case-free: two sections with the same one collide."""
        return frozenset((k, v.casefold()) for k, v in self.qualifiers.items())


def is_ours(section_name: str) -> bool:
    """Only `artifacts` and `artifacts <qualifiers>` sections belong to this backend."""
    return section_name == SECTION_PREFIX or section_name.startswith(SECTION_PREFIX + " ")


_NEAR = re.compile(r"^\s*([A-Za-z_]+)(\s.*)?$", re.DOTALL)


def near_miss(section_name: str) -> str:
    """A did-you-mean for a section that is almost ours (`[artifact ...]`, `[Artifacts ...]`,
    `[ artifacts org=...]`), else "". Another tool's section (`[artifactory]`) is left alone."""
    match = _NEAR.match(section_name)
    if match is None:
        return ""
    word, rest = match.group(1), (match.group(2) or "").strip()
    if word.lower() == "artifactory" or (word == SECTION_PREFIX and section_name == section_name.strip()):
        return ""
    import difflib  # only for error messages

    if difflib.SequenceMatcher(None, word.lower(), SECTION_PREFIX).ratio() < 0.85:
        return ""
    intended = f"{SECTION_PREFIX} {rest}".strip()
    return (
        f"not read: section names are case-sensitive and start with 'artifacts' (did you mean [{intended}]?)"
    )


def loose_qualifiers(section_name: str) -> dict[str, str]:
    """The known qualifiers of a section name, quoted or not: enough to tell whether an invalid
    section was meant for a URL (then its problem fails the lookup) or not (a warning)."""
    found: dict[str, str] = {}
    for match in _PAIR.finditer(section_name[len(SECTION_PREFIX) :]):
        key = match.group(1).lower()
        value = next((g for g in match.group(2, 3, 4) if g is not None), "").strip()
        if key in QUALIFIER_WEIGHTS and value and key not in found:
            found[key] = value
    return found


def did_you_mean(word: str, choices: list[str]) -> str:
    import difflib  # only for error messages

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def parse_qualifiers(section_name: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Qualifiers of a section name, plus (qualifier, problem) pairs for whatever is wrong."""
    text = section_name[len(SECTION_PREFIX) :]
    qualifiers: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _PAIR.match(text, position)
        if match is None:
            problems.append(("qualifiers", f"cannot read '{text[position:].strip()}': write key=\"value\""))
            break
        position = match.end()
        key = match.group(1).lower()
        quoted = match.group(2) if match.group(2) is not None else match.group(3)
        if key not in QUALIFIER_WEIGHTS:
            hint = did_you_mean(key, sorted(QUALIFIER_WEIGHTS))
            problems.append((key, f"unknown qualifier{hint}; known: {', '.join(sorted(QUALIFIER_WEIGHTS))}"))
            continue
        if quoted is None:
            problems.append((key, f'value must be quoted: {key}="{match.group(4)}"'))
            continue
        value = quoted.strip()
        if not value:
            problems.append((key, "empty value"))
        elif key in qualifiers:
            problems.append((key, "qualifier given twice"))
        elif key == "host":
            problem = _host_problem(value)
            if problem:
                problems.append((key, problem))
            else:
                qualifiers[key] = value
        else:
            qualifiers[key] = value
    return qualifiers, problems


def _host_problem(value: str) -> Optional[str]:
    if "/" in value or "@" in value:
        return f'\'{value}\' is not a host name: write host="devops.example.com" or "host:port"'
    try:
        parse_host_pattern(value)
    except ValueError as exc:
        return f"'{value}' is not a host name ({exc})"
    return None


def mismatch(section: Section, ref: FeedRef) -> Optional[str]:
    """Why a section does not apply to a URL, or None when every qualifier matches."""
    if not section.valid:
        return "invalid qualifiers (see errors)"
    return _mismatch(section.qualifiers, ref)


def may_apply(section: Section, ref: FeedRef) -> bool:
    """Could the section be meant for this URL? Valid: it applies. Invalid: its known qualifiers,
    read leniently, match (so its problem is the lookup's problem, not a warning)."""
    if section.valid:
        return mismatch(section, ref) is None
    try:
        return _mismatch(section.loose, ref) is None
    except ValueError:
        return True


def _mismatch(qualifiers: dict[str, str], ref: FeedRef) -> Optional[str]:
    for key, expected in qualifiers.items():
        if key == "host":
            host, port = parse_host_pattern(expected)
            if not host_matches(ref.host, host):
                sub = not host.startswith("*.") and ref.host.endswith("." + host)
                hint = f' (subdomains match only when written host="*.{host}")' if sub else ""
                return f"host {ref.netloc} is not {expected}{hint}"
            default_port = 443 if ref.scheme == "https" else 80
            if port is not None and (ref.port or default_port) != port:
                return f"port {ref.port or default_port} is not {port}"
            continue
        actual = getattr(ref, key)
        if actual is None:
            return f"URL has no {key}"
        if actual.casefold() != expected.casefold():
            return f"{key} '{actual}' is not '{expected}'"
    return None
