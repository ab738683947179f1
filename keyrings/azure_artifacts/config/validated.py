"""Validation once per configuration: the validated options of the sections as last written,
kept as JSON in the state directory, so a cold lookup with an unchanged config file does not
import pydantic (about a third of a cold lookup's own cost).

The entry is keyed by the sections exactly as read (names, qualifiers, raw option strings,
read problems) and by the validating code itself (the modification times of `options.py` and
`values.py`): any change to either validates again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Optional

from .files import RawConfig
from .resolve import ValidConfig, validate

FORMAT = 1
FILE_NAME = "validated.json"


def _key(raw: RawConfig) -> str:
    here = Path(__file__).parent
    code = [(here / name).stat().st_mtime_ns for name in ("options.py", "values.py")]
    sections = [(s.name, s.qualifiers, s.options, s.order, s.valid) for s in raw.sections]
    document = [FORMAT, code, str(raw.path), raw.exists, sections, list(raw.problems)]
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode("utf-8", "surrogateescape")).hexdigest()


def _options(stored: Any, names: list[str]) -> Optional[dict[str, dict[str, Any]]]:
    """The stored per-section options with lists back to tuples; None when malformed."""
    if not isinstance(stored, dict) or set(stored) != set(names):
        return None
    options: dict[str, dict[str, Any]] = {}
    for name, values in stored.items():
        if not isinstance(values, dict):
            return None
        options[name] = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return options


def load(raw: RawConfig, state: Path) -> Optional[ValidConfig]:
    from ..cache import read_json

    data = read_json(state / FILE_NAME)
    if not isinstance(data, dict) or data.get("key") != _key(raw):
        return None
    problems = data.get("problems")
    options = _options(data.get("options"), [s.name for s in raw.sections])
    if options is None or not isinstance(problems, list) or not all(isinstance(p, str) for p in problems):
        return None
    return ValidConfig(raw=raw, options=options, problems=tuple(problems))


def validate_once(raw: RawConfig, state: Path) -> ValidConfig:
    """The validated config, from the state directory when this exact config was validated before."""
    from .._log import get_logger
    from ..cache import atomic_write_json

    found = load(raw, state)
    if found is not None:
        get_logger().debug("config: validated before, unchanged (%s)", raw.path)
        return found
    valid = validate(raw)
    document = {"key": _key(raw), "options": dict(valid.options), "problems": list(valid.problems)}
    try:
        atomic_write_json(state / FILE_NAME, document)
    except OSError as exc:  # an unwritable state dir costs the shortcut, not the lookup
        get_logger().debug("config: validation not kept (%s)", exc.__class__.__name__)
    return valid
