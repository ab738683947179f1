"""Which sections apply to a URL, and each option from the most specific one that sets it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from ..urls import FeedRef
from .files import RawConfig, problem
from .sections import Section, mismatch
from .settings import Settings, entra_less
from .table import BY_NAME, HOST_ONLY_OPTIONS, OPTION_NAMES, PARSERS

# The compatibility variables (README "Moving from ..."): option defaults below `[artifacts]`.
from .table import env_options as env_options


@dataclass(frozen=True)
class SectionReport:
    name: str
    applies: bool
    weight: int
    reason: str


@dataclass(frozen=True)
class Resolution:
    ref: FeedRef
    config: RawConfig
    sections: tuple[SectionReport, ...]
    settings: Settings
    errors: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ValidConfig:
    """Every section's options validated once; problems collected for `check` and lookups."""

    raw: RawConfig
    options: Mapping[str, Mapping[str, Any]]  # per section: the options it sets, validated
    problems: tuple[str, ...]


def validate(raw: RawConfig) -> ValidConfig:
    """Validate every section's options. A file with nothing wrong is read by the option parsers
    alone; pydantic (imported here, and only when needed) names every problem otherwise."""
    quick = _quick(raw)
    if quick is not None:
        return quick
    from .options import validate_options

    problems = list(raw.problems)
    parsed: dict[str, Mapping[str, Any]] = {}
    for section in raw.sections:
        options, bad = validate_options(section.options)
        for key, what in bad:
            problems.append(problem(raw.path, section.name, key, what))
        if "host" not in section.qualifiers:
            for key in HOST_ONLY_OPTIONS:
                if key in section.options:
                    problems.append(problem(raw.path, section.name, key, "only allowed in a host section"))
        parsed[section.name] = options.model_dump(exclude_none=True)
    return ValidConfig(raw=raw, options=parsed, problems=tuple(problems))


def _quick(raw: RawConfig) -> Optional[ValidConfig]:
    """The validated options when every section is well formed and every option known and
    valid (the same parsers the pydantic model runs); None at the first problem of any kind."""
    if raw.problems or not all(section.valid for section in raw.sections):
        return None
    parsed: dict[str, Mapping[str, Any]] = {}
    for section in raw.sections:
        if "host" not in section.qualifiers and any(k in section.options for k in HOST_ONLY_OPTIONS):
            return None
        options: dict[str, Any] = {}
        for key, text in section.options.items():
            parse = PARSERS.get(key)
            if parse is None:
                return None
            try:
                options[key] = parse(text)
            except ValueError:
                return None
        parsed[section.name] = options
    return ValidConfig(raw=raw, options=parsed, problems=())


def resolve(valid: ValidConfig, ref: FeedRef, environ: Mapping[str, str]) -> Resolution:
    """Layer the applicable sections for `ref`: most specific first, later-in-file on ties."""
    reports: list[SectionReport] = []
    applicable: list[Section] = []
    for section in valid.raw.sections:
        reason = mismatch(section, ref)
        reports.append(
            SectionReport(section.name, reason is None, section.weight, reason or "all qualifiers match")
        )
        if reason is None:
            applicable.append(section)
    applicable.sort(key=lambda s: (s.weight, s.order), reverse=True)
    from_env, env_problems = env_options(environ)
    chosen: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in OPTION_NAMES:
        for section in applicable:
            value = valid.options[section.name].get(name)
            if value is not None:
                chosen[name], sources[name] = value, section.name
                break
        else:
            if name in from_env:
                chosen[name], sources[name] = from_env[name]
            else:
                chosen[name], sources[name] = _default(name, ref), "default"
    host_sets_entra = any(
        "host" in section.qualifiers
        and any(valid.options[section.name].get(name) is not None for name in ("tenant", "authority_host"))
        for section in applicable
    )
    settings = Settings(**chosen, sources=sources, host_sets_entra=host_sets_entra)
    if entra_less(ref, settings) and sources["credential"] == "default":
        settings = settings.override("credential", ("static",), "default")
    errors = tuple(valid.problems) + tuple(env_problems)
    return Resolution(ref, valid.raw, tuple(reports), settings, errors)


def _default(name: str, ref: FeedRef) -> Any:
    """The built-in default; a few depend on the URL."""
    return BY_NAME[name].default_for(ref)
