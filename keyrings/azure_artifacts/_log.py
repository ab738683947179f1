"""Logging to stderr only: warnings always, decisions with KEYRINGS_AZURE_ARTIFACTS_LOG=debug.

Never touches the root logger or stdout (uv reads a password from our stdout).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys

LOGGER_NAME = "keyrings.azure_artifacts"
ENV_LOG = "KEYRINGS_AZURE_ARTIFACTS_LOG"

_configured = False


def get_logger() -> logging.Logger:
    """The package logger, writing to stderr at the level the env variable asks for."""
    global _configured
    logger = logging.getLogger(LOGGER_NAME)
    if not _configured:
        _configured = True
        name = os.environ.get(ENV_LOG, "").strip().upper() or "WARNING"
        level = logging.getLevelName(name)
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("azure-artifacts: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(level if isinstance(level, int) else logging.DEBUG)
        logger.propagate = False
    return logger


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (tools and tests may swap it)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def quiet_libraries() -> None:
    """Keep azure-identity/azure-core/msal chatter out of the host tool's output.

    pip sets its root logger to INFO, so their HTTP traces would land in pip's output.
    Loggers someone configured explicitly are left alone; our debug mode lets them speak.
    """
    if os.environ.get(ENV_LOG, "").strip().upper() == "DEBUG":
        return
    for name in ("azure", "msal", "msal_extensions", "urllib3"):
        library = logging.getLogger(name)
        if library.level == logging.NOTSET:
            # Their warnings restate a failure our one line already reports, with less context.
            library.setLevel(logging.ERROR)


def fingerprint(secret: str | None) -> str:
    """A short, stable, non-reversible label for a secret, safe to log or print."""
    if not secret:
        return "<none>"
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]
