"""What a configuration can never do, judged on the *layered* settings of every feed scope the
file mentions: one function, called by `check`, `explain` and `doctor` alike.

A scope is a set of qualifiers a URL can match: each section's own, and the union of any
sections that can apply to the same URL (`[artifacts org="contoso"]` with `[artifacts
feed="x"]`). A scope's settings layer every section whose qualifiers it contains, most specific
first, over `[artifacts]` and the compatibility variables, exactly as a lookup does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .files import problem
from .settings import Settings, cannot_work, session_capped

if TYPE_CHECKING:
    from .resolve import ValidConfig
    from .sections import Section

MAX_SCOPES = 256  # unions of sections; a file with more is judged on the first ones


@dataclass(frozen=True)
class Finding:
    """One rule broken in one scope: `layers` are the sections layered for it (a URL whose
    applicable sections are exactly these gets the same settings); `problem` False: a warning."""

    message: str
    layers: frozenset[str]
    problem: bool = True

    def concerns(self, applied: set[str]) -> bool:
        """Does the finding hold for a URL to which exactly the sections `applied` apply?"""
        return self.layers == applied


def findings(valid: ValidConfig, environ: Mapping[str, str]) -> list[Finding]:
    """Every rule broken by the layered settings of every scope, each message once."""
    from .resolve import env_options, host_sets_entra, layer_options

    from_env = env_options(environ)[0]
    usable = [s for s in valid.raw.sections if s.valid]
    found: dict[str, Finding] = {}
    for scope in _scopes(usable):
        applicable = [s for s in usable if _within(s.qualifiers, scope)]
        chosen, sources = layer_options(valid, applicable, from_env, None)
        settings = Settings(**chosen, sources=sources, host_sets_entra=host_sets_entra(valid, applicable))
        named = frozenset(s.name for s in applicable)
        where = max(applicable, key=lambda s: (s.weight, s.order)).name if applicable else "artifacts"
        reason = cannot_work(settings)
        if reason:
            origin = _origin(sources)
            message = problem(valid.raw.path, where, "auth", reason + origin)
            found.setdefault(message, Finding(message, named))
        capped = session_capped(settings.auth, settings.session_duration)
        if capped:
            message = problem(valid.raw.path, where, "session_duration", capped)
            found.setdefault(message, Finding(message, named, problem=False))
    return list(found.values())


def _origin(sources: Mapping[str, str]) -> str:
    """Where auth and credential came from, when not from one section (layering is the point)."""
    auth, credential = sources.get("auth", "default"), sources.get("credential", "default")
    if auth == credential:
        return ""

    def shown(source: str) -> str:
        return source if source == "default" or source.startswith("env:") else f"[{source}]"

    return f" (auth from {shown(auth)}, credential from {shown(credential)})"


def _scopes(sections: list[Section]) -> list[dict[str, str]]:
    """`[artifacts]` (no qualifiers), each section's qualifiers, and the unions of compatible
    ones, without repeats."""
    scopes: list[dict[str, str]] = [{}]
    seen: set[frozenset[tuple[str, str]]] = {frozenset()}
    frontier = [dict(s.qualifiers) for s in sections]
    while frontier and len(scopes) < MAX_SCOPES:
        scope = frontier.pop(0)
        key = frozenset((k, v.casefold()) for k, v in scope.items())
        if key in seen:
            continue
        seen.add(key)
        scopes.append(scope)
        for section in sections:
            merged = _union(scope, section.qualifiers)
            if merged is not None and len(merged) > len(scope):
                frontier.append(merged)
    return scopes


def _union(a: Mapping[str, str], b: Mapping[str, str]) -> dict[str, str] | None:
    """Both sets of qualifiers at once, or None when they contradict (no URL matches both)."""
    merged = dict(a)
    for key, value in b.items():
        if key in merged and merged[key].casefold() != value.casefold():
            return None
        merged[key] = value
    return merged


def _within(qualifiers: Mapping[str, str], scope: Mapping[str, str]) -> bool:
    return all(
        key in scope and scope[key].casefold() == value.casefold() for key, value in qualifiers.items()
    )
