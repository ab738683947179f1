"""`static`: a PAT or token the user already has, from `token_file` or an environment variable.

The secret is handed back as is (no exchange). Order: `token_file`, then the variable named
by `token_env`, then `AZURE_DEVOPS_EXT_PAT` (the Azure CLI's variable).

A `token_file` readable or writable by group or others is used, with one warning line:
Kubernetes secret volumes and CI steps that `echo $PAT > file` produce 0644 files, and
refusing them would break working setups for no gain on a single-user runner.
A configured `token_file` that is missing, empty or unreadable stops the chain: the user
asked for that file, so falling through to another identity would hide the mistake.
"""

from __future__ import annotations

import codecs
import os
import stat
import sys
import time
from pathlib import Path

from .._log import get_logger
from ..errors import AuthenticationFailed, CredentialUnavailable
from ._util import env_value
from .base import AccessToken, Flow, FlowOptions

COMPAT_ENV = "AZURE_DEVOPS_EXT_PAT"
MAX_FILE_BYTES = 64 * 1024  # a token is a few KiB at most; anything bigger is the wrong file
# The secret's lifetime is unknown; pass-through secrets are re-read on every lookup anyway.
ASSUMED_LIFETIME = 3600


def unavailable_reason(options: FlowOptions) -> str | None:
    """None when a token file or a token variable is configured (the file is checked on use)."""
    if options.token_file or _env_token(options) is not None:
        return None
    names = " or ".join(dict.fromkeys((options.token_env, COMPAT_ENV)))
    return f"no token_file and {names} is not set"


def _env_token(options: FlowOptions) -> tuple[str, str] | None:
    """(variable name, value) of the first token variable that is set."""
    for name in dict.fromkeys((options.token_env, COMPAT_ENV)):
        value = env_value(options.environ, name)
        if value is not None:
            return name, value
    return None


def too_open(mode: int) -> bool:
    """True when group or others may read or write the file (POSIX permission bits)."""
    return bool(stat.S_IMODE(mode) & 0o077)


def decode_token_file(data: bytes) -> str:
    """UTF-8 with or without a BOM, or UTF-16 with its BOM: what `$pat > file` and `Out-File`
    write in Windows PowerShell 5.1 (Microsoft Learn, about_Character_Encoding: "Unicode"
    UTF-16LE is the default of the redirection operators and Out-File there)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def read_token_file(path: Path) -> str:
    """The file's single line, stripped; AuthenticationFailed (never showing content) otherwise."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise AuthenticationFailed(f"token_file {path} is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise AuthenticationFailed(f"token_file {path} is larger than {MAX_FILE_BYTES} bytes")
        with path.open("rb") as handle:
            text = decode_token_file(handle.read(MAX_FILE_BYTES + 1))
    except FileNotFoundError:
        raise AuthenticationFailed(f"token_file {path} does not exist") from None
    except PermissionError:
        raise AuthenticationFailed(f"token_file {path} is not readable") from None
    except UnicodeDecodeError:
        raise AuthenticationFailed(f"token_file {path} is not UTF-8 or UTF-16 text") from None
    except OSError as exc:
        raise AuthenticationFailed(f"token_file {path}: {exc.strerror or type(exc).__name__}") from None
    token = text.strip()
    if not token:
        raise AuthenticationFailed(f"token_file {path} is empty")
    if any(c in token for c in "\r\n"):
        raise AuthenticationFailed(f"token_file {path} holds more than one line; expected only the token")
    if sys.platform != "win32" and too_open(info.st_mode):
        get_logger().warning(
            "token_file %s is accessible by group or others (mode %o); run `chmod 600 %s`",
            path,
            stat.S_IMODE(info.st_mode),
            path,
        )
    return token


def token_file_path(options: FlowOptions) -> Path | None:
    return Path(os.path.expanduser(options.token_file)) if options.token_file else None


def read_token(options: FlowOptions) -> str:
    """The configured PAT or token: CredentialUnavailable when none is configured,
    AuthenticationFailed when the configured file cannot be used."""
    path = token_file_path(options)
    if path is not None:
        get_logger().debug("static: reading token_file %s", path)
        return read_token_file(path)
    found = _env_token(options)
    if found is None:
        raise CredentialUnavailable(unavailable_reason(options) or "no token configured")
    name, value = found
    get_logger().debug("static: token from %s", name)
    return value


class StaticFlow(Flow):
    """The configured PAT or token, unchanged (the lookup hands it over without an exchange)."""

    name = "static"
    hands_over = True
    signs_in = False
    auto = 0

    unavailable = staticmethod(unavailable_reason)

    def get_token(self, scope: str) -> AccessToken:
        return _pass_through(read_token(self.options))


def _pass_through(token: str) -> AccessToken:
    return AccessToken(token=token, expires_on=int(time.time()) + ASSUMED_LIFETIME)
