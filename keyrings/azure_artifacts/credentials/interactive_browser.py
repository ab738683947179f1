"""`interactive_browser`: sign-in in a local browser, redirected back to a loopback port.

A browser is assumed on Windows and macOS; on Linux (WSL included, where MSAL cannot
always reach the Windows browser) only when DISPLAY or WAYLAND_DISPLAY is set.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from ..errors import AuthenticationFailed
from ._util import stdout_to_stderr
from .base import AccessToken, FlowOptions
from .msal_user import UserFlow, application, token_from_result


def has_browser(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """A heuristic: a desktop session exists (no process is started)."""
    if platform.startswith(("win", "darwin")):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def unavailable_reason(options: FlowOptions) -> str | None:
    """Only when a person may be asked and a browser can be opened."""
    if not options.interactive:
        return "not interactive"
    if not has_browser(options.environ):
        return "no display for a browser"
    return None


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
                    timeout=max(1, int(self.options.interactive_timeout)),
                )
        except Exception as exc:  # browser or loopback server problems, network errors
            raise AuthenticationFailed(f"browser sign-in failed: {type(exc).__name__}") from None
        return token_from_result(result)
