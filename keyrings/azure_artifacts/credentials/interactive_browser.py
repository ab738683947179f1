"""`interactive_browser`: sign-in in a local browser, redirected back to a loopback port.

A browser is assumed on Windows and macOS, except in an SSH session (OpenSSH sets SSH_CONNECTION
and, with a terminal, SSH_TTY: a browser would open on the remote desktop, or nowhere); on Linux
(WSL included, where MSAL cannot always reach the Windows browser) only when DISPLAY or
WAYLAND_DISPLAY is set. Where no browser opens, msal's sign-in URL is printed on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Optional

from ..errors import AuthenticationFailed
from ._util import stdout_to_stderr
from .base import AccessToken, FlowOptions
from .msal_user import UserFlow, application, token_from_result

SSH_VARIABLES = ("SSH_CONNECTION", "SSH_TTY")


def over_ssh(environ: Mapping[str, str]) -> bool:
    """The person is on the other end of an SSH session (OpenSSH's variables, on every platform)."""
    return any(environ.get(name, "").strip() for name in SSH_VARIABLES)


def has_browser(environ: Mapping[str, str], platform: Optional[str] = None) -> bool:
    """A heuristic: a desktop session exists (no process is started)."""
    if (platform or sys.platform).startswith(("win", "darwin")):
        return not over_ssh(environ)
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def unavailable_reason(options: FlowOptions) -> str | None:
    """Only when a person may be asked and a browser can be opened."""
    if not options.interactive:
        return "not interactive"
    if not has_browser(options.environ):
        return "an SSH session: no browser here" if over_ssh(options.environ) else "no display for a browser"
    return None


def show_sign_in_url(url: str) -> None:
    """msal's `auth_uri_callback`, called when no browser could be opened: msal would only log
    the URL as a warning, and library warnings are kept quiet (`_log.quiet_libraries`)."""
    print(f"No browser could be opened: to sign in, open {url}", file=sys.stderr, flush=True)


class InteractiveBrowserFlow(UserFlow):
    """`acquire_token_interactive` with a bounded wait for the redirect."""

    name = "interactive_browser"
    auto = 8
    asks_person = True

    unavailable = staticmethod(unavailable_reason)

    def fetch(self, scope: str) -> AccessToken:
        app = application(self.options)
        try:
            with stdout_to_stderr():
                result = app.acquire_token_interactive(
                    [scope],
                    login_hint=self.options.login_hint,
                    prompt="select_account",
                    auth_uri_callback=show_sign_in_url,  # passed on to msal's oauth2cli.authcode
                    timeout=max(1, int(self.options.interactive_timeout)),
                )
        except Exception as exc:  # browser or loopback server problems, network errors
            raise AuthenticationFailed(f"browser sign-in failed: {type(exc).__name__}") from None
        return token_from_result(result)
