"""Which flows run, in which order, and the chain that tries them.

Flow modules are imported only when a flow is built or described, so that choosing the
order stays cheap; nothing here touches the network.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import replace
from types import ModuleType
from typing import Callable, Optional

from .._log import get_logger
from ..errors import AuthenticationFailed, ChainFailed, CredentialUnavailable, UntrustedCertificate
from ._util import one_line
from .base import AccessToken, FlowOptions, TokenFlow
from .names import ALL_NAMES

__all__ = [
    "ALL_NAMES",
    "ChainedFlow",
    "auto_chain",
    "build_flow",
    "describe_chain",
    "fix_hint",
    "unavailable_reason",
]

# name -> (module under credentials/, class name).
_REGISTRY: dict[str, tuple[str, str]] = {
    "static": ("static", "StaticFlow"),
    "azure_pipelines": ("azure_pipelines", "AzurePipelinesFlow"),
    "environment": ("environment", "EnvironmentFlow"),
    "workload_identity": ("workload_identity", "WorkloadIdentityFlow"),
    "managed_identity": ("managed_identity", "ManagedIdentityFlow"),
    "azure_cli": ("azure_cli", "AzureCliFlow"),
    "azure_developer_cli": ("azure_developer_cli", "AzureDeveloperCliFlow"),
    "azure_powershell": ("azure_powershell", "AzurePowerShellFlow"),
    "shared_cache": ("shared_cache", "SharedCacheFlow"),
    "broker": ("broker", "BrokerFlow"),
    "interactive_browser": ("interactive_browser", "InteractiveBrowserFlow"),
    "device_code": ("device_code", "DeviceCodeFlow"),
}


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{__package__}.{_REGISTRY[name][0]}")


def unavailable_reason(name: str, options: FlowOptions) -> str | None:
    """Why flow `name` would not run here, or None when it would be tried; no I/O beyond PATH lookups."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown credential {name!r}")
    if name == "azure_pipelines" and not _module(name).configured(options.environ):
        return "no Azure Pipelines variables are set"
    check: Optional[Callable[[FlowOptions], Optional[str]]] = getattr(
        _module(name), "unavailable_reason", None
    )
    return check(options) if check is not None else None


def auto_chain(options: FlowOptions) -> list[str]:
    """The flows `credential = auto` tries, in order, for these options."""
    options = replace(options, allow_imds=False)  # `auto` never probes IMDS
    names: list[str] = []
    if unavailable_reason("static", options) is None:
        names.append("static")
    if _module("azure_pipelines").configured(options.environ):
        names.append("azure_pipelines")
    for name in ("environment", "workload_identity", "managed_identity", "azure_cli"):
        if unavailable_reason(name, options) is None:
            names.append(name)
    names.append("shared_cache")
    if options.interactive:
        for name in ("broker", "interactive_browser", "device_code"):
            if unavailable_reason(name, options) is None:
                names.append(name)
                break
    return names


def build_flow(name: str, options: FlowOptions) -> TokenFlow:
    """The flow called `name`, constructed from `options` (its heavy imports wait for get_token)."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown credential {name!r}; expected one of {', '.join(ALL_NAMES)}")
    flow: TokenFlow = getattr(_module(name), _REGISTRY[name][1])(options)
    return flow


def fix_hint(service_url: str = "") -> str:
    """What a person can do when no flow produced a token."""
    url = service_url or "<URL>"
    return f"Run `az login`, or `azure-artifacts-keyring login {url}` in a terminal"


def run(flows: Sequence[TokenFlow], org: str, fix: str, scope: str) -> tuple[str, AccessToken]:
    """(name of the flow that answered, its token); ChainFailed listing every attempt otherwise."""
    chained = ChainedFlow(flows, org, fix=fix)
    token = chained.get_token(scope)
    return chained.answered, token


class ChainedFlow:
    """Tries each flow in order: unavailable → next; failed → stop. Reports every attempt."""

    name = "chain"

    def __init__(self, flows: Sequence[TokenFlow], org: str, *, fix: str | None = None) -> None:
        self.flows = list(flows)
        self.org = org
        self.fix = fix or fix_hint()
        self.answered = ""  # the name of the flow that produced the last token

    def get_token(self, scope: str) -> AccessToken:
        log = get_logger()
        attempts: list[tuple[str, str]] = []
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
            self.answered = flow.name
            return token
        raise ChainFailed(self.org, attempts, self.fix, exhausted=True)


def describe_chain(names: Sequence[str], options: FlowOptions) -> list[str]:
    """One line per flow for `explain`: would it be tried, or why not (nothing is run)."""
    lines = []
    for name in names:
        reason = unavailable_reason(name, options)
        lines.append(f"{name}: {'would be tried' if reason is None else 'skipped, ' + reason}")
    return lines
