"""Credentials handed over as they are, with no Entra token and no exchange: a PAT or token the
user configured (`static`) and the endpoint credentials Azure Pipelines' authenticate tasks put
in the environment (`azure_pipelines`). Both are read on every lookup and never cached, so one
set later wins over anything cached before."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ._log import get_logger, one_line
from .errors import AuthenticationFailed
from .secret import Secret

if TYPE_CHECKING:
    from .credentials.base import FlowOptions
    from .signin import SignIn


def _kinds(signin: SignIn, options: FlowOptions) -> list[str]:
    """The pass-through kinds to try, in order: those listed, or under `auto` those configured here."""
    from .credentials.registry import HANDS_OVER, flow_class

    credential = signin.resolution.settings.credential
    if credential != ("auto",):
        return [name for name in credential if name in HANDS_OVER]
    return [name for name in HANDS_OVER if flow_class(name).in_auto(options)]


def hand_over(signin: SignIn, username: Optional[str] = None) -> Optional[Secret]:
    """The first pass-through credential that applies; unavailable ones are noted in `attempts`.
    A configured token file that cannot be read stops the lookup (ChainFailed)."""
    from .credentials import azure_pipelines, static
    from .errors import CredentialUnavailable

    settings = signin.resolution.settings
    options = signin.configured_options()
    log = get_logger()
    for name in _kinds(signin, options):
        if name == "static":
            path = static.token_file_path(options)
            if path is not None:
                signin.ctx.note_file(path)
            try:
                token = static.read_token(options)
            except CredentialUnavailable as exc:
                signin.attempts.append((name, one_line(exc)))
                continue
            except AuthenticationFailed as exc:
                signin.attempts.append((name, one_line(exc)))
                raise signin.failed() from None
            log.debug("returning the static token as is")
            return Secret(username or settings.username, token, "static")
        found = azure_pipelines.find(options.environ, options.service_url, signin.ctx.now())
        if found.token is None:
            signin.attempts.append((name, "; ".join(found.reasons)))
            continue
        log.debug("returning the Azure Pipelines credential as is")
        user = username or found.token.username or settings.username
        return Secret(user, found.token.token, "azure_pipelines")
    return None
