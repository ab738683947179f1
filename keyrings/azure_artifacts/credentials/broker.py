"""`broker`: sign-in through the Windows authentication broker (WAM).

Windows only: that is where the Azure Artifacts public client's broker redirect URI
(`ms-appx-web://microsoft.aad.brokerplugin/{client id}`) is known to work. On macOS msal's
broker (msal >= 1.31) needs a redirect URI registered on the app
(`msauth.com.microsoft.azureartifacts.credentialprovider://auth` in Microsoft's own provider,
artifacts-credprovider src/Authentication/AzureArtifacts.cs) that nobody has tried with this
package, so it is not offered there. Needs msal's broker extra (pymsalruntime) and msal >= 1.25
(`enable_broker_on_windows`).
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from ..errors import AuthenticationFailed
from ._bounded import GaveUp, call_bounded
from ._util import stdout_to_stderr
from .base import AccessToken, FlowOptions
from .interactive_browser import over_ssh
from .msal_user import UserFlow, application, token_from_result


def broker_supported(platform: str = sys.platform) -> bool:
    """Windows, with pymsalruntime importable (msal's broker extra)."""
    if not platform.startswith("win"):
        return False
    return importlib.util.find_spec("pymsalruntime") is not None


def unavailable_reason(options: FlowOptions) -> str | None:
    """Only when a person may be asked and the platform has a broker."""
    if not options.interactive:
        return "not interactive"
    if not sys.platform.startswith("win"):
        return "the broker is used on Windows only"
    if over_ssh(options.environ):
        return "an SSH session: no sign-in window can be shown"
    if not broker_supported():
        return "msal's broker extra (pymsalruntime) is not installed"
    return None


class BrokerFlow(UserFlow):
    """Silent through the broker first (it knows the OS account), then its interactive prompt.

    msal waits for the broker without a limit (msal/broker.py: `callback_data.signal.wait()`,
    and `timeout` is not passed on): a sign-in window behind other windows would hold pip and
    the key's lock for ever. Each call is given up on after `timeout` (silent) or
    `interactive_timeout` (a person at the window), in one line."""

    name = "broker"
    auto = 7
    asks_person = True

    unavailable = staticmethod(unavailable_reason)

    def fetch(self, scope: str) -> AccessToken:
        app = application(self.options, broker=True)
        options = self.options
        try:
            accounts = app.get_accounts(username=options.login_hint)
            result = None
            if accounts:
                result = call_bounded(lambda: app.acquire_token_silent([scope], accounts[0]), options.timeout)
            if not result or "access_token" not in result:
                with stdout_to_stderr():
                    result = call_bounded(lambda: self._interactive(app, scope), options.interactive_timeout)
        except GaveUp as exc:
            raise AuthenticationFailed(
                f"the Windows broker {exc}; its sign-in window may be behind other windows "
                "(or run `azure-artifacts-keyring login URL` in a terminal)"
            ) from None
        except Exception as exc:
            raise AuthenticationFailed(f"broker sign-in failed: {type(exc).__name__}") from None
        return token_from_result(result)

    def _interactive(self, app: Any, scope: str) -> Any:
        return app.acquire_token_interactive(
            [scope],
            login_hint=self.options.login_hint,
            parent_window_handle=app.CONSOLE_WINDOW_HANDLE,
            timeout=max(1, int(self.options.interactive_timeout)),
            # Personal Microsoft accounts through the broker at `organizations`, as Microsoft's
            # credential provider enables it (msal: a hidden keyword).
            enable_msa_passthrough=True,
        )
