"""The option table: one validated model, with errors that name the option.

pydantic is imported here and only here; this module is loaded only for URLs
that are ours (never on a foreign lookup).
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from . import values as v
from .sections import did_you_mean

HOST_ONLY_OPTIONS = ("path_prefix", "allow_http")


def _choice(choices: tuple[str, ...]) -> Any:
    return BeforeValidator(lambda value: v.choice(value, choices))


class Options(BaseModel):
    """Every option a section may set; None means "not set here"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    auth: Annotated[Optional[str], _choice(v.AUTH_MODES)] = None
    credential: Annotated[Optional[tuple[str, ...]], BeforeValidator(v.credential)] = None
    tenant: Annotated[Optional[str], BeforeValidator(v.tenant)] = None
    authority_host: Annotated[Optional[str], BeforeValidator(v.https_url)] = None
    client_id: Annotated[Optional[str], BeforeValidator(v.guid)] = None
    scopes: Annotated[Optional[tuple[str, ...]], BeforeValidator(v.scopes)] = None
    pat_duration: Annotated[Optional[int], BeforeValidator(v.duration)] = None
    pat_renew_before: Annotated[Optional[int], BeforeValidator(v.duration)] = None
    session_duration: Annotated[Optional[int], BeforeValidator(v.duration)] = None
    username: Annotated[Optional[str], BeforeValidator(v.username)] = None
    interactive: Annotated[Optional[str], _choice(v.INTERACTIVE_MODES)] = None
    token_env: Annotated[Optional[str], BeforeValidator(v.env_name)] = None
    token_file: Annotated[Optional[str], BeforeValidator(v.path)] = None
    vssps_url: Annotated[Optional[str], BeforeValidator(v.https_url)] = None
    timeout: Annotated[Optional[float], BeforeValidator(v.timeout)] = None
    path_prefix: Annotated[Optional[str], BeforeValidator(v.path_prefix)] = None
    allow_http: Annotated[Optional[bool], BeforeValidator(v.boolean)] = None


# The model and the typed settings list the same options (a test holds them together).
OPTION_NAMES: tuple[str, ...] = tuple(Options.model_fields)


def validate_options(raw: dict[str, str]) -> tuple[Options, list[tuple[str, str]]]:
    """Validate raw option strings; unknown or bad options come back as (option, problem) pairs.

    Valid options are kept even when others are bad, so `explain` can still show them;
    the caller refuses to hand out a credential while any problem remains.
    """
    problems: list[tuple[str, str]] = []
    known: dict[str, str] = {}
    for key, value in raw.items():
        if key in Options.model_fields:
            known[key] = value
        else:
            problems.append((key, f"unknown option{did_you_mean(key, list(OPTION_NAMES))}"))
    try:
        return Options(**known), problems  # type: ignore[arg-type]
    except ValidationError as exc:
        bad = set()
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            bad.add(name)
            message = _one_line(str(error["msg"]).removeprefix("Value error, "))
            problems.append((name, message))
        good = {k: v for k, v in known.items() if k not in bad}
        return Options(**good), problems  # type: ignore[arg-type]


def _one_line(message: str) -> str:
    """A multi-line value (an ini continuation line) quoted in a message must not split the one
    line pip and uv show: control characters are written as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
