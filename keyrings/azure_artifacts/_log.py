"""Logging to stderr only: warnings always, decisions with KEYRINGS_AZURE_ARTIFACTS_LOG=debug.

Never touches the root logger or stdout (uv reads a password from our stdout).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
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
    # msal's token cache logs what it stores (a device code among it) at DEBUG: never ours to show.
    logging.getLogger("msal.token_cache").setLevel(logging.INFO)
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


_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*)?")
_SCHEME_TOKEN = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_KEY_VALUE = re.compile(
    r"(?i)(access_?token|refresh_?token|id_?token|client_?secret|password|assertion|device_?code)"
    r"([\"']?\s*[:=]\s*[\"']?)[^\s\"',;&}]+"
)
# Classic Azure DevOps PATs are 52 characters, new-format ones 84.
_PAT = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z0-9]{84}|[A-Za-z0-9]{52})(?![A-Za-z0-9])")


def _mask_value(match: re.Match[str]) -> str:
    """`key=***`, except where the "key" is the name of a flow (`device_code: AADSTS70000 ...`
    in a list of attempts) or the "value" is an Entra error code: those are the message."""
    key, separator, value = match.group(1), match.group(2), match.group(0)[match.end(2) - match.start(0) :]
    named_flow = (
        key.lower() == "device_code" and "=" not in separator and not any(q in separator for q in "\"'")
    )
    if named_flow or value.upper().startswith("AADSTS"):
        return match.group(0)
    return key + separator + "***"


def redact(text: str) -> str:
    """Mask JWTs, `Bearer`/`Basic` credentials, `token=...` values and PAT-shaped strings."""
    text = _SCHEME_TOKEN.sub(lambda m: f"{m.group(1)} ***", text)
    text = _KEY_VALUE.sub(_mask_value, text)
    text = _JWT.sub("***", text)
    return _PAT.sub("***", text)


def one_line(message: object, default: str = "", limit: int = 0) -> str:
    """The first meaningful line of a message (a traceback or a `content:` dump is skipped),
    redacted, at most `limit` characters (0: whole). Empty: `default`, else the exception's
    class name."""
    line = ""
    for candidate in str(message or "").splitlines():
        candidate = candidate.strip()
        if candidate and not candidate.lower().startswith(("traceback", "content:")):
            line = redact(candidate)
            break
    if limit and len(line) > limit:
        line = line[: limit - 3].rstrip() + "..."
    if line:
        return line
    return default or (message.__class__.__name__ if isinstance(message, BaseException) else "failed")
