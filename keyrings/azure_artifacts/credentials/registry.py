"""Every credential flow, one line each; their traits live on the classes.

The flow modules import only the standard library at module level (msal and azure.identity
wait for `get_token`), so importing this module is cheap; it is still imported only on the
cold path (config validation, the chain, the cache key), never on the warm or foreign path.

Adding a flow: write its module under `credentials/` (a `Flow` subclass stating its traits),
then add its class to `FLOWS` below, at the place it should have in the documentation.
"""

from __future__ import annotations

from .azure_cli import AzureCliFlow
from .azure_developer_cli import AzureDeveloperCliFlow
from .azure_pipelines import AzurePipelinesFlow
from .azure_powershell import AzurePowerShellFlow
from .base import Flow
from .broker import BrokerFlow
from .device_code import DeviceCodeFlow
from .environment import EnvironmentFlow
from .interactive_browser import InteractiveBrowserFlow
from .managed_identity import ManagedIdentityFlow
from .shared_cache import SharedCacheFlow
from .static import StaticFlow
from .workload_identity import WorkloadIdentityFlow

FLOWS: tuple[type[Flow], ...] = (
    StaticFlow,
    AzurePipelinesFlow,
    EnvironmentFlow,
    WorkloadIdentityFlow,
    ManagedIdentityFlow,
    AzureCliFlow,
    AzureDeveloperCliFlow,
    AzurePowerShellFlow,
    SharedCacheFlow,
    BrokerFlow,
    InteractiveBrowserFlow,
    DeviceCodeFlow,
)

BY_NAME: dict[str, type[Flow]] = {flow.name: flow for flow in FLOWS}
ALL_NAMES: tuple[str, ...] = tuple(BY_NAME)
# In the order `credential = auto` considers them.
AUTO: tuple[type[Flow], ...] = tuple(
    sorted((f for f in FLOWS if f.auto is not None), key=lambda f: f.auto or 0)
)
# Hand over a configured credential as it is (passthrough.py), in `auto` order.
HANDS_OVER: tuple[str, ...] = tuple(f.name for f in FLOWS if f.hands_over)
# Configured by name, these can only ever sign in as an application: `auth = pat` cannot work.
SERVICE_IDENTITIES = frozenset(f.name for f in FLOWS if f.service_identity and not f.hands_over)


def flow_class(name: str) -> type[Flow]:
    """The class of flow `name`; ValueError naming the known ones otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown credential {name!r}; expected one of {', '.join(ALL_NAMES)}") from None
