"""Which sections apply to a URL, and each option from the most specific one that sets it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from ..urls import FeedRef
from .files import ENV_CONFIG, RawConfig, problem
from .hosts import ENTRA_OPTIONS
from .sections import Section, may_apply, mismatch
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
    # Problems in sections that are not meant for this URL, and near-miss section names.
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ValidConfig:
    """Every section's options validated once; problems collected for `check` and lookups."""

    raw: RawConfig
    options: Mapping[str, Mapping[str, Any]]  # per section: the options it sets, validated
    problems: tuple[str, ...]  # everything `check` reports
    by_section: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # section -> its problems


def validate(raw: RawConfig) -> ValidConfig:
    """Validate every section's options. A file with nothing wrong is read by the option parsers
    alone; pydantic (imported here, and only when needed) names every problem otherwise."""
    quick = _quick(raw)
    if quick is not None:
        return quick
    from .options import validate_options

    by_section: dict[str, list[str]] = {}
    for name, what in raw.section_problems:
        by_section.setdefault(name, []).append(what)
    parsed: dict[str, Mapping[str, Any]] = {}
    for section in raw.sections:
        found = by_section.setdefault(section.name, [])
        options, bad = validate_options(section.options)
        found += [problem(raw.path, section.name, key, what) for key, what in bad]
        if "host" not in section.qualifiers:
            found += [
                problem(raw.path, section.name, key, "only allowed in a host section")
                for key in HOST_ONLY_OPTIONS
                if key in section.options
            ]
        parsed[section.name] = options.model_dump(exclude_none=True)
    problems = [*raw.problems, *(what for found in by_section.values() for what in found), *raw.near_misses]
    sections = {name: tuple(found) for name, found in by_section.items() if found}
    return ValidConfig(raw=raw, options=parsed, problems=tuple(problems), by_section=sections)


def _quick(raw: RawConfig) -> Optional[ValidConfig]:
    """The validated options when every section is well formed and every option known and
    valid (the same parsers the pydantic model runs); None at the first problem of any kind."""
    if raw.problems or raw.section_problems or raw.near_misses or not all(s.valid for s in raw.sections):
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
    """Layer the applicable sections for `ref`: most specific first, later-in-file on ties.

    Problems of the file as a whole, of `[artifacts]` and of sections that may be meant for this
    URL fail it (`errors`); those of sections for other URLs are only `warnings`."""
    reports: list[SectionReport] = []
    applicable: list[Section] = []
    errors: list[str] = list(valid.raw.problems)
    warnings: list[str] = []
    for section in valid.raw.sections:
        reason = mismatch(section, ref)
        reports.append(
            SectionReport(section.name, reason is None, section.weight, reason or "all qualifiers match")
        )
        if reason is None:
            applicable.append(section)
        found = valid.by_section.get(section.name, ())
        (errors if may_apply(section, ref) else warnings).extend(found)
    from_env, env_problems = env_options(environ)
    chosen, sources = layer_options(valid, applicable, from_env, ref)
    settings = Settings(**chosen, sources=sources, host_sets_entra=host_sets_entra(valid, applicable))
    if entra_less(ref, settings) and sources["credential"] == "default":
        settings = settings.override("credential", ("static",), "default")
    errors += env_problems + missing_file(valid.raw, environ)
    warnings += valid.raw.near_misses
    return Resolution(ref, valid.raw, tuple(reports), settings, tuple(errors), tuple(warnings))


def layer_options(
    valid: ValidConfig,
    applicable: list[Section],
    from_env: Mapping[str, tuple[Any, str]],
    ref: Optional[FeedRef],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Each option from the most specific applicable section that sets it, then the compatibility
    variables, then the default: (values, where each came from)."""
    ordered = sorted(applicable, key=lambda s: (s.weight, s.order), reverse=True)
    chosen: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in OPTION_NAMES:
        for section in ordered:
            value = valid.options.get(section.name, {}).get(name)
            if value is not None:
                chosen[name], sources[name] = value, section.name
                break
        else:
            if name in from_env:
                chosen[name], sources[name] = from_env[name]
            else:
                chosen[name], sources[name] = _default(name, ref), "default"
    return chosen, sources


def host_sets_entra(valid: ValidConfig, applicable: list[Section]) -> bool:
    """A `host` section that applies sets tenant or authority_host itself: only then may that host
    receive an Entra token (the root section, an `org` section or AZURE_AUTHORITY_HOST speak for
    Azure DevOps Services, not for a server of the user's)."""
    return any(
        "host" in section.qualifiers
        and any(valid.options.get(section.name, {}).get(name) is not None for name in ENTRA_OPTIONS)
        for section in applicable
    )


def missing_file(raw: RawConfig, environ: Mapping[str, str]) -> list[str]:
    """KEYRINGS_AZURE_ARTIFACTS_CONFIG names a file that is not there: a lookup must not quietly
    use the defaults (a typo in a CI variable would otherwise go unnoticed)."""
    if raw.exists or not environ.get(ENV_CONFIG, "").strip():
        return []
    return [f"{raw.path}: {ENV_CONFIG} names this file, which does not exist"]


def _default(name: str, ref: Optional[FeedRef]) -> Any:
    """The built-in default; a few depend on the URL."""
    return BY_NAME[name].default_for(ref)
