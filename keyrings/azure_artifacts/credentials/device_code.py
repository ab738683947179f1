"""`device_code`: a person signs in on another device; the prompt goes to stderr, never stdout."""

from __future__ import annotations

import sys
import time

from ..errors import AuthenticationFailed
from ._util import one_line
from .base import AccessToken, FlowOptions
from .msal_user import UserFlow, application, token_from_result


def unavailable_reason(options: FlowOptions) -> str | None:
    """Only when a person may be asked."""
    return None if options.interactive else "not interactive"


class DeviceCodeFlow(UserFlow):
    """Waits for the person at most until the code expires or `interactive_timeout`, whichever is first."""

    name = "device_code"
    auto = 9
    asks_person = True

    unavailable = staticmethod(unavailable_reason)

    def fetch(self, scope: str) -> AccessToken:
        app = application(self.options)
        try:
            flow = app.initiate_device_flow(scopes=[scope])
        except Exception as exc:  # network errors from requests
            raise AuthenticationFailed(f"device code request failed: {type(exc).__name__}") from None
        if "user_code" not in flow:
            raise AuthenticationFailed(
                f"{one_line(flow.get('error'), 'error')}: {one_line(flow.get('error_description'))}"
            )
        print(flow.get("message") or f"Enter code {flow['user_code']}", file=sys.stderr, flush=True)
        deadline = time.time() + self.options.interactive_timeout
        flow["expires_at"] = min(float(flow.get("expires_at") or deadline), deadline)
        try:
            result = app.acquire_token_by_device_flow(flow)
        except Exception as exc:
            raise AuthenticationFailed(f"device code sign-in failed: {type(exc).__name__}") from None
        return token_from_result(result)
