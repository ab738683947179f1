"""`device_code`: a person signs in on another device; the prompt goes to stderr, never stdout."""

from __future__ import annotations

import re
import sys
import time
from typing import Any

from ..errors import AuthenticationFailed
from ._util import one_line
from .base import AccessToken, Flow, FlowOptions
from .msal_user import application, token_from_result


def unavailable_reason(options: FlowOptions) -> str | None:
    """Only when a person may be asked."""
    return None if options.interactive else "not interactive"


class DeviceCodeFlow(Flow):
    """Waits for the person at most until the code expires or `interactive_timeout`, whichever is first."""

    name = "device_code"

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
        message = flow.get("message") or f"Enter code {flow['user_code']}"
        say(f"sign-in for {_for_what(self.options)}: {message}")
        deadline = time.time() + self.options.interactive_timeout
        flow["expires_at"] = min(float(flow.get("expires_at") or deadline), deadline)
        try:
            result = app.acquire_token_by_device_flow(flow, exit_condition=_Waiting(flow["expires_at"]))
        except Exception as exc:
            raise AuthenticationFailed(f"device code sign-in failed: {type(exc).__name__}") from None
        return token_from_result(result)


WAIT_NOTICE_SECONDS = 15.0  # at most one "still waiting" line this often


def say(line: str) -> None:
    """A prompt line on stderr, with the prefix every line of ours carries inside pip or uv."""
    print(f"azure-artifacts: {line}", file=sys.stderr, flush=True)


def _for_what(options: FlowOptions) -> str:
    feed = re.search(r"/_packaging/([^/@?#]+)", options.service_url or "")
    return f"Azure DevOps organization '{options.org}'" + (f", feed '{feed.group(1)}'" if feed else "")


class _Waiting:
    """msal's poll loop asks this once a second whether to stop: stop at the deadline, and say
    now and then that the sign-in is still waiting (a person may wonder why pip hangs)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.said = time.monotonic()

    def __call__(self, flow: Any) -> bool:
        now = time.time()
        if now >= self.deadline:
            return True
        if time.monotonic() - self.said >= WAIT_NOTICE_SECONDS:
            self.said = time.monotonic()
            left = int(self.deadline - now)
            say(f"waiting for the code to be entered ({left // 60} min {left % 60} s left; Ctrl-C stops)")
        return False
