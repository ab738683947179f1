"""How times, durations, GUIDs and our token names are written, in one place (stdlib only)."""

from __future__ import annotations

import re
from typing import Optional

TOOL = "keyrings.azure-artifacts"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def is_guid(text: str) -> bool:
    """A GUID in its usual 8-4-4-4-12 form, any case (tenants, client ids, Azure DevOps ids)."""
    return bool(_GUID.match(text))


def iso_utc(timestamp: float) -> str:
    """Epoch seconds as ISO 8601 UTC with a `Z`, whole seconds (what we print and what the REST
    APIs take as `validTo`)."""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(int(timestamp), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration_text(seconds: int) -> str:
    """`90d`, `12h`, `45m` or `30s`: the largest unit that divides the duration."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def display_name(org: str, feed: Optional[str] = None, hostname: Optional[str] = None) -> str:
    """Names the tool, this machine and the org (and feed) on every token we create, so a user can
    tell ours apart in the Azure DevOps token list."""
    import socket

    host = socket.gethostname() if hostname is None else hostname
    where = f"{org}/{feed}" if feed else org
    return f"{TOOL} on {host or 'unknown host'} for {where}"[:200]
