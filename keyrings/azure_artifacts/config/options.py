"""The option table: one validated model, with errors that name the option.

pydantic is imported here and only here; this module is loaded only for URLs
that are ours (never on a foreign lookup).
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from . import values as v
from .sections import did_you_mean

HOST_ONLY_OPTIONS = v.HOST_ONLY_OPTIONS


def _parsed(name: str) -> Any:
    return BeforeValidator(v.PARSERS[name])


class Options(BaseModel):
    """Every option a section may set; None means "not set here"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    auth: Annotated[Optional[str], _parsed("auth")] = None
    credential: Annotated[Optional[tuple[str, ...]], _parsed("credential")] = None
    tenant: Annotated[Optional[str], _parsed("tenant")] = None
    authority_host: Annotated[Optional[str], _parsed("authority_host")] = None
    client_id: Annotated[Optional[str], _parsed("client_id")] = None
    scopes: Annotated[Optional[tuple[str, ...]], _parsed("scopes")] = None
    pat_duration: Annotated[Optional[int], _parsed("pat_duration")] = None
    pat_renew_before: Annotated[Optional[int], _parsed("pat_renew_before")] = None
    session_duration: Annotated[Optional[int], _parsed("session_duration")] = None
    username: Annotated[Optional[str], _parsed("username")] = None
    interactive: Annotated[Optional[str], _parsed("interactive")] = None
    token_env: Annotated[Optional[str], _parsed("token_env")] = None
    token_file: Annotated[Optional[str], _parsed("token_file")] = None
    vssps_url: Annotated[Optional[str], _parsed("vssps_url")] = None
    timeout: Annotated[Optional[float], _parsed("timeout")] = None
    ca_bundle: Annotated[Optional[str], _parsed("ca_bundle")] = None
    path_prefix: Annotated[Optional[str], _parsed("path_prefix")] = None
    allow_http: Annotated[Optional[bool], _parsed("allow_http")] = None


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
