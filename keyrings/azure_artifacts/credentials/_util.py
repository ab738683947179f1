"""Small pure helpers shared by the flows: host classification, safe one-line reasons."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping

from .._log import one_line as _one_line
from ..microsoft import ENTRA_HOSTS, PUBLIC_AUTHORITY_HOST
from ..urls import origin
from .base import FlowOptions

_MAX_REASON = 200


def authority_host(options: FlowOptions) -> str:
    """The authority base URL, without a trailing slash; AZURE_AUTHORITY_HOST only replaces the default."""
    host = options.authority_host or PUBLIC_AUTHORITY_HOST
    if host.rstrip("/") == PUBLIC_AUTHORITY_HOST:
        host = options.environ.get("AZURE_AUTHORITY_HOST") or host
    if "://" not in host:
        host = "https://" + host
    return host.rstrip("/")


def is_microsoft_host(authority: str) -> bool:
    """True for Entra ID's own hosts, where instance discovery is both possible and wanted."""
    return origin(authority, default_scheme="https").host in ENTRA_HOSTS


def one_line(message: object, default: str = "failed") -> str:
    """A library's message as one short reason for a chain attempt (`_log.one_line`, capped)."""
    return _one_line(message, default, limit=_MAX_REASON)


def env_value(environ: Mapping[str, str], name: str) -> str | None:
    """A variable's value, treating empty or blank as unset."""
    value = environ.get(name)
    return value.strip() if value and value.strip() else None


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Point file descriptor 1 at stderr while a sign-in may start a browser or a broker.

    Children inherit fd 1: a browser's "Opening in existing browser session." would join the
    password uv reads from our stdout, and a browser that lives on would hold that pipe open.
    """
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (AttributeError, OSError, ValueError):  # no stdout at all: nothing to protect
        yield
        return
    try:
        os.dup2(2, 1)
    except OSError:
        os.close(saved)
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
