"""What `login` says when no sign-in succeeded: the attempts, and what to do next that is not
"run login again" as it was just run (stdlib only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .errors import ChainFailed
    from .urls import FeedRef

# Entra ID / MSAL error names for a person who said no, or did not answer in time.
_DECLINED = ("authorization_declined", "access_denied", "aadsts70000", "declined")
_EXPIRED = ("expired_token", "aadsts70019", "code expired", "timed out", "timeout")


def login_failed(exc: ChainFailed, ref: FeedRef, *, account: Optional[str], force: bool) -> str:
    """One line: which organization, every attempt, and the next step."""
    tried = "; ".join(f"{name}: {reason}" for name, reason in exc.attempts) or "no way to sign in here"
    return f"sign-in for Azure DevOps organization '{ref.org}' did not succeed ({tried}). {_next(exc, ref, account, force)}"


def _next(exc: ChainFailed, ref: FeedRef, account: Optional[str], force: bool) -> str:
    text = " ".join(reason.lower() for _name, reason in exc.attempts)
    other = "--account NAME to choose another account" if not account else "another --account"
    if any(word in text for word in _DECLINED):
        return (
            "The sign-in was declined: run login again and approve it, or use "
            f"{other}; if your account is not in organization {ref.org}, ask its administrator for access"
        )
    if any(word in text for word in _EXPIRED):
        return "The code was not entered in time: run login again and enter the code when it is shown"
    if exc.exhausted:
        return (
            "No interactive sign-in can run here (no terminal, CI set, or interactive = never): run it in "
            "a terminal, or `az login` first"
        )
    again = "" if force else "; --force signs in afresh instead of reusing the cached account"
    return (
        f"Check that the account is a member of organization {ref.org} and of its tenant "
        f"(or use {other}){again}"
    )
