"""Azure DevOps' naming rules for the names a feed URL carries (pure, stdlib only).

A URL whose organization, project, feed or view breaks them is not ours: such a name can only
have been crafted, for example to smuggle a host and port (`attacker.example:8443/`) into a URL
built from it. Reserved names (`CON`, `App_Data`, ...) are not checked: they cannot change where
a request goes, and `DefaultCollection` is a real Azure DevOps Server collection.
"""

from __future__ import annotations

import re
from typing import Optional

# Organization names on Azure DevOps Services: letters of the English alphabet, digits and
# hyphens; they start and end with a letter or digit; at most 50 characters. Such a name is a
# valid DNS label, which is why it may stand in a host ({org}.pkgs.visualstudio.com).
# https://learn.microsoft.com/azure/devops/organizations/accounts/rename-organization
# https://learn.microsoft.com/azure/devops/organizations/accounts/create-organization
ORG_MAX = 50
_ORG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)

# Project names (and Azure DevOps Server collection names, the organization segment on a host a
# `host` section declares): at most 64 characters; no control or surrogate characters; none of
# / : \ ~ & % ; @ ' " ? < > | # $ * } { , + = [ ]; not starting with `_`; not starting or ending
# with `.`.
# https://learn.microsoft.com/azure/devops/organizations/settings/naming-restrictions#project-names
# https://learn.microsoft.com/azure/devops/organizations/settings/naming-restrictions#project-collections
PROJECT_MAX = 64
_PROJECT_FORBIDDEN = frozenset("/:\\~&%;@'\"?<>|#$*}{,+=[]")

# Feed names (views follow them too): at most 64 characters; no whitespace; not starting with
# `_` or `.`, not ending with `.`; none of @ ~ ; { } \ + = < > | / ? : & $ * " # [ ].
# https://learn.microsoft.com/rest/api/azure/devops/artifacts/feed-management/create-feed (Feed.name)
# `%` is refused as well: a name still holding one after percent-decoding was encoded twice.
FEED_MAX = 64
_FEED_FORBIDDEN = frozenset('@~;{}\\+=<>|/?:&$*"#[]%')

KINDS = ("organization", "project", "feed", "view")


def _shown(char: str) -> str:
    if char == " ":
        return "a space"
    return repr(char) if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"


def _controls(name: str) -> Optional[str]:
    for char in name:
        code = ord(char)
        if code < 32 or 127 <= code < 160 or 0xD800 <= code <= 0xDFFF:
            return f"has a control character ({_shown(char)})"
    return None


def org_problem(name: str, *, services: bool) -> Optional[str]:
    """Why `name` cannot be an organization (None when it can). `services`: Azure DevOps
    Services' rule; otherwise an Azure DevOps Server collection name (the project rule)."""
    if not services:
        return project_problem(name)
    if not name:
        return "is empty"
    if len(name) > ORG_MAX:
        return f"is longer than {ORG_MAX} characters"
    if not _ORG.fullmatch(name):
        bad = next((c for c in name if not (c.isascii() and (c.isalnum() or c == "-"))), None)
        if bad is not None:
            return f"has {_shown(bad)}: only letters, digits and hyphens are allowed"
        return "must start and end with a letter or digit"
    return None


def project_problem(name: str) -> Optional[str]:
    if not name:
        return "is empty"
    if len(name) > PROJECT_MAX:
        return f"is longer than {PROJECT_MAX} characters"
    control = _controls(name)
    if control:
        return control
    bad = next((c for c in name if c in _PROJECT_FORBIDDEN), None)
    if bad is not None:
        return f"has {_shown(bad)}, which is not allowed"
    if name.startswith("_"):
        return "starts with '_'"
    if name.startswith(".") or name.endswith("."):
        return "starts or ends with '.'"
    return None


def feed_problem(name: str) -> Optional[str]:
    """Why `name` cannot be a feed (or view) name, or None."""
    if not name:
        return "is empty"
    if len(name) > FEED_MAX:
        return f"is longer than {FEED_MAX} characters"
    control = _controls(name)
    if control:
        return control
    bad = next((c for c in name if c in _FEED_FORBIDDEN or c.isspace()), None)
    if bad is not None:
        return f"has {_shown(bad)}, which is not allowed"
    if name.startswith(("_", ".")):
        return f"starts with '{name[0]}'"
    if name.endswith("."):
        return "ends with '.'"
    return None


def is_dns_label(name: str) -> bool:
    """A name that may stand as one label of a host name."""
    return bool(_DNS_LABEL.fullmatch(name))


def describe(kind: str, name: str, why: str) -> str:
    """`organization 'x:1' has ':' ...`, the name shown safely (no control characters, bounded)."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name[:80])
    more = "..." if len(name) > 80 else ""
    return f"{kind} '{shown}{more}' {why} (Azure DevOps naming rules), so this URL is not an Azure Artifacts feed"
