"""Finding developer CLIs on the PATH of the given environment (no process is started)."""

from __future__ import annotations

import shutil
import sys

from .base import FlowOptions


def find_executable(options: FlowOptions, *names: str) -> str | None:
    """The first of `names` found on options.environ's PATH (Windows adds .cmd/.exe via PATHEXT)."""
    path = options.environ.get("PATH")
    if path is None:
        return None
    for name in names:
        candidates = [name + ".cmd", name] if sys.platform.startswith("win") else [name]
        for candidate in candidates:
            found = shutil.which(candidate, path=path)
            if found:
                return found
    return None
