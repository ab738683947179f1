"""Host names: `host[:port]` as written in a URL or a `host` qualifier, and matching a host
against a `host` section (pure, stdlib only; re-exported by `urls`)."""

from __future__ import annotations

import re
from typing import Optional

_PORT = re.compile(r"^[0-9]{1,5}$")
# Characters a host name may have; anything else (`%`, unicode, ...) is refused, not guessed.
_HOST_CHARS = re.compile(r"^[a-z0-9._-]+$")
_IPV6_CHARS = re.compile(r"^[0-9a-f:.]+$")


def host_matches(host: str, pattern: str) -> bool:
    """A host section's `host` against a URL's host, case-insensitive: exact, or with an explicit
    `*.example.com` any one label in front of `example.com` (like a TLS wildcard: not
    `example.com` itself, not `a.b.example.com`)."""
    host = host.lower().rstrip(".")
    pattern = pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        suffix = pattern[1:]
        label = host[: -len(suffix)]
        return len(suffix) > 1 and host.endswith(suffix) and bool(label) and not set(label) & {".", "*"}
    return bool(pattern) and host == pattern


def in_domain(host: str, domain: str) -> bool:
    """`host` is `domain` or any host under it, on a dot boundary (`evilpkgs.x` is not under
    `pkgs.x`): for Microsoft's own domains, never for a host section."""
    host = host.lower().rstrip(".")
    domain = domain.lower().rstrip(".")
    return bool(domain) and (host == domain or host.endswith("." + domain))


def parse_host(value: str) -> tuple[str, Optional[int]]:
    """Split `host[:port]` (IPv6 in brackets) into a lower-case host and an optional port."""
    value = value.strip()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise ValueError("unclosed '[' in host")
        host, rest = value[1:end].lower(), value[end + 1 :]
        if not _IPV6_CHARS.match(host):
            raise ValueError("bad IPv6 address")
        if rest and not (rest.startswith(":") and _PORT.match(rest[1:])):
            raise ValueError("bad port")
        return host, _port(rest[1:]) if rest else None
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = value, ""
    elif not _PORT.match(port) or not host or ":" in host:
        raise ValueError("bad port")
    host = host.lower()
    if not _HOST_CHARS.match(host):
        raise ValueError("bad character in host name")
    return host, _port(port) if port else None


def parse_host_pattern(value: str) -> tuple[str, Optional[int]]:
    """A `host` qualifier: `host[:port]`, or `*.example.com[:port]` for its subdomains."""
    value = value.strip()
    if value.startswith("*."):
        host, port = parse_host(value[2:])
        if ":" in host or "." not in host:
            raise ValueError("a wildcard needs a domain name after '*.'")
        return "*." + host, port
    return parse_host(value)


def _port(text: str) -> int:
    number = int(text)
    if not 0 < number < 65536:
        raise ValueError("port out of range")
    return number
