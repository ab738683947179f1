"""Which flows run, in which order, and the chain that tries them.

The flows and their traits are in `registry.py`; nothing here touches the network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Optional

from .._log import get_logger
from ..errors import (
    AuthenticationFailed,
    ChainFailed,
    CredentialUnavailable,
    TokenRefused,
    UntrustedCertificate,
)
from ._util import one_line
from .base import AccessToken, FlowOptions, TokenFlow
from .registry import ALL_NAMES, AUTO, flow_class

__all__ = [
    "ALL_NAMES",
    "ChainedFlow",
    "auto_chain",
    "build_flow",
    "describe_chain",
    "fix_hint",
    "unavailable_reason",
]


def unavailable_reason(name: str, options: FlowOptions) -> str | None:
    """Why flow `name` would not run here, or None when it would be tried; no I/O beyond PATH lookups."""
    return flow_class(name).unavailable(options)


def auto_chain(options: FlowOptions) -> list[str]:
    """The flows `credential = auto` tries, in order, for these options: each that can run here,
    and of those that ask a person only the first, only when interactive."""
    options = replace(options, allow_imds=False)  # `auto` never probes IMDS
    names: list[str] = []
    asked = False
    for flow in AUTO:
        if flow.asks_person and (asked or not options.interactive):
            continue
        if flow.in_auto(options):
            names.append(flow.name)
            asked = asked or flow.asks_person
    return names


def build_flow(name: str, options: FlowOptions) -> TokenFlow:
    """The flow called `name`, constructed from `options` (its heavy imports wait for get_token)."""
    flow: TokenFlow = flow_class(name)(options)
    return flow


def fix_hint(service_url: str = "", attempts: Sequence[tuple[str, str]] = ()) -> str:
    """What a person can do when no flow produced a token. A sign-in of ours that is still
    cached (its refresh failed for another reason) is not a reason to sign in again."""
    url = service_url or "<URL>"
    for name, reason in attempts:
        # Its unavailable reasons ("no state directory", "no cached sign-in", "... expired") do call
        # for a sign-in; anything else (a refresh that failed on the network) does not.
        if name == "shared_cache" and not reason.startswith(("no ", "cached sign-in expired")):
            return (
                "Your `azure-artifacts-keyring login` is still cached, but it could not be used (see "
                f"shared_cache above); run `azure-artifacts-keyring doctor {url}`"
            )
    return f"Run `az login`, or `azure-artifacts-keyring login {url}` in a terminal"


# Called with (flow name, token) once a flow answers; raising TokenRefused moves on to the next flow.
Accept = Callable[[str, AccessToken], None]


def run(
    flows: Sequence[TokenFlow], org: str, fix: str, scope: str, accept: Optional[Accept] = None
) -> tuple[str, AccessToken]:
    """(name of the flow that answered, its token); ChainFailed listing every attempt otherwise.
    `accept` lets the organization have its say: a token it refuses does not count."""
    chained = ChainedFlow(flows, org, fix=fix, accept=accept)
    token = chained.get_token(scope)
    return chained.answered, token


class ChainedFlow:
    """Tries each flow in order: unavailable → next; failed → stop. Reports every attempt.
    A token `accept` refuses (TokenRefused) is an attempt too, and the next flow is tried."""

    name = "chain"

    def __init__(
        self, flows: Sequence[TokenFlow], org: str, *, fix: str | None = None, accept: Optional[Accept] = None
    ) -> None:
        self.flows = list(flows)
        self.org = org
        self.fix = fix or fix_hint()
        self.accept = accept
        self.answered = ""  # the name of the flow that produced the last token

    def get_token(self, scope: str) -> AccessToken:
        log = get_logger()
        attempts: list[tuple[str, str]] = []
        refused = False
        for flow in self.flows:
            log.debug("credential %s: trying", flow.name)
            try:
                token = flow.get_token(scope)
            except CredentialUnavailable as exc:
                attempts.append((flow.name, one_line(exc, "unavailable")))
                log.debug("credential %s: unavailable (%s)", flow.name, attempts[-1][1])
                continue
            except UntrustedCertificate:
                raise  # the network's answer, not the flow's: the next flow would meet it too
            except AuthenticationFailed as exc:
                attempts.append((flow.name, one_line(exc)))
                log.debug("credential %s: failed (%s)", flow.name, attempts[-1][1])
                raise ChainFailed(self.org, attempts, self.fix) from None
            except Exception as exc:  # a flow bug must not become a traceback in pip
                attempts.append((flow.name, f"unexpected {type(exc).__name__}"))
                log.debug("credential %s: unexpected %s", flow.name, type(exc).__name__, exc_info=True)
                raise ChainFailed(self.org, attempts, self.fix) from None
            log.debug("credential %s: token obtained", flow.name)
            if self.accept is not None:
                try:
                    self.accept(flow.name, token)
                except TokenRefused as exc:
                    refused = True
                    attempts.append((flow.name, one_line(exc)))
                    log.debug("credential %s: its token was refused (%s)", flow.name, attempts[-1][1])
                    continue
            self.answered = flow.name
            return token
        raise ChainFailed(self.org, attempts, self.fix, exhausted=not refused)


def describe_chain(names: Sequence[str], options: FlowOptions) -> list[str]:
    """One line per flow for `explain`: would it be tried, or why not (nothing is run)."""
    lines = []
    for name in names:
        reason = unavailable_reason(name, options)
        lines.append(f"{name}: {'would be tried' if reason is None else 'skipped, ' + reason}")
    return lines
