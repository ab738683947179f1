"""The pydantic model of the option table, with errors that name the option.

pydantic is imported here and only here; this module is loaded only to name the problems of a
file that has some (a valid file is read by `table.PARSERS` alone), never on a foreign lookup.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model

from .sections import did_you_mean
from .table import HOST_ONLY_OPTIONS, OPTION_NAMES, ROWS

__all__ = ["HOST_ONLY_OPTIONS", "OPTION_NAMES", "Options", "validate_options"]

# Every option a section may set, each run through its row's parser; None means "not set here".
_FIELDS: dict[str, Any] = {
    row.name: (Annotated[Optional[Any], BeforeValidator(row.parse)], None) for row in ROWS
}
Options = create_model("Options", __config__=ConfigDict(extra="forbid", frozen=True), **_FIELDS)


def validate_options(raw: dict[str, str]) -> tuple[BaseModel, list[tuple[str, str]]]:
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
        return Options(**known), problems
    except ValidationError as exc:
        bad = set()
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            bad.add(name)
            message = _one_line(str(error["msg"]).removeprefix("Value error, "))
            problems.append((name, message))
        good = {k: v for k, v in known.items() if k not in bad}
        return Options(**good), problems


def _one_line(message: str) -> str:
    """A multi-line value (an ini continuation line) quoted in a message must not split the one
    line pip and uv show: control characters are written as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
