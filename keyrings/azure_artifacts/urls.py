"""Service string -> FeedRef, or None when the string is not an Azure Artifacts URL.

Pure and stdlib-only: this runs for every keyring lookup on the machine, so it
must be fast, never raise, and never mistake a look-alike host for ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional
from urllib.parse import quote, unquote

from .hostnames import host_matches, parse_host, parse_host_pattern
from .names import describe, feed_problem, is_dns_label, org_problem, project_problem

__all__ = [
    "FEED_HOSTS",
    "FeedRef",
    "HostRule",
    "Origin",
    "expand_vssps",
    "host_matches",
    "is_feed_host",
    "name_problem",
    "origin",
    "parse_host",
    "parse_host_pattern",
    "parse_service",
]

# Hosts whose first path segment is the organization: matched exactly (`x.pkgs.dev.azure.com`
# is not Azure DevOps, and its first segment would be read as the organization).
_ORG_IN_PATH = {
    "pkgs.dev.azure.com": "dev.azure.com",
    "pkgs.codedev.ms": "codedev.ms",
    "pkgs.codeapp.ms": "codeapp.ms",
}
# Hosts whose leftmost label is the organization: {org}.<suffix>, exactly one label more.
_ORG_IN_HOST = {
    "pkgs.visualstudio.com": "visualstudio.com",
    "pkgs.vsts.me": "vsts.me",
}
# Every built-in feed host (for messages about hosts that are not ours).
FEED_HOSTS = (*_ORG_IN_PATH, *_ORG_IN_HOST)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)


DEFAULT_PORTS = {"https": 443, "http": 80}


def format_netloc(scheme: str, host: str, port: Optional[int]) -> str:
    """`host[:port]`, IPv6 in brackets, the port only when it is not the scheme's default."""
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None or port == DEFAULT_PORTS.get(scheme) else f"{shown}:{port}"


@dataclass(frozen=True)
class Origin:
    """Scheme, host and port of a URL: lower-case, no userinfo, no trailing dot on the host."""

    scheme: str
    host: str
    port: Optional[int]  # as written; None when absent or not a number

    @property
    def effective_port(self) -> Optional[int]:
        return self.port if self.port is not None else DEFAULT_PORTS.get(self.scheme)

    @property
    def netloc(self) -> str:
        return format_netloc(self.scheme, self.host, self.port)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.netloc}"


def origin(url: str, default_scheme: str = "") -> Origin:
    """The origin of a URL, or of `host[:port]...` (with `default_scheme`); never raises."""
    from urllib.parse import urlsplit

    text = url.strip()
    if "://" not in text and not text.startswith("/"):  # `host[:port]...`; a path has no origin
        text = (f"{default_scheme}://" if default_scheme else "//") + text
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = None
    return Origin(parts.scheme.lower(), (parts.hostname or "").rstrip(".").lower(), port)


@dataclass(frozen=True)
class HostRule:
    """A host declared by a `host` section: Azure DevOps Server, a proxy, a test server."""

    host: str  # lower-case host name, no port
    port: Optional[int] = None  # None: any port
    path_prefix: str = ""  # "" or "/tfs" (no trailing slash)
    allow_http: bool = False


@dataclass(frozen=True)
class FeedRef:
    """What a service string names: organization, optional project, feed and view."""

    service: str
    scheme: str
    host: str
    port: Optional[int]
    org: str
    project: Optional[str] = None
    feed: Optional[str] = None
    view: Optional[str] = None
    upload: bool = False
    kind: str = "dev.azure.com"  # dev.azure.com, visualstudio.com, codedev.ms, ... or "configured"
    path_prefix: str = ""

    @property
    def netloc(self) -> str:
        return format_netloc(self.scheme, self.host, self.port)

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    def org_url(self) -> str:
        """Base URL of the organization on the feed host (before `_packaging`). Names are
        percent-encoded: a decoded name is never written into a URL as it is."""
        if self.kind in _ORG_IN_HOST.values():
            return self.origin
        return f"{self.origin}{self.path_prefix}/{_segment(self.org)}"

    def feed_url(self) -> str:
        """The feed's PyPI index, used for the anonymous discovery request."""
        base = self.org_url()
        if self.project:
            base += f"/{_segment(self.project)}"
        if not self.feed:
            return base + "/"
        feed = _segment(self.feed) + (f"@{_segment(self.view)}" if self.view else "")
        return f"{base}/_packaging/{feed}/pypi/simple/"

    def default_vssps_url(self) -> str:
        """Where session tokens and PATs are minted for this organization. Where the token
        service carries the organization in its host, the name must be a DNS label (every valid
        Azure DevOps Services organization is one; ValueError otherwise)."""
        if self.kind == "dev.azure.com":
            return f"https://vssps.dev.azure.com/{_segment(self.org)}"
        if self.kind == "codedev.ms":
            return f"https://vssps.codedev.ms/{_segment(self.org)}"
        if self.kind == "codeapp.ms":  # AppFabric serves the token service per organization host
            return f"https://{_label(self.org)}.vssps.codeapp.ms"
        if self.kind == "visualstudio.com":
            return f"https://{_label(self.org)}.vssps.visualstudio.com"
        if self.kind == "vsts.me":
            return f"https://{_label(self.org)}.vssps.vsts.me"
        return f"{self.origin}{self.path_prefix}/{_segment(self.org)}"


def _segment(name: str) -> str:
    return quote(name, safe="")


def _label(org: str) -> str:
    if not is_dns_label(org):
        raise ValueError(f"organization '{org[:80]}' cannot be part of a host name")
    return org.lower()


def expand_vssps(template: str, org: str) -> str:
    """A configured `vssps_url` with `{org}` replaced. In the path the name is percent-encoded;
    in the host `{org}` may only be the leftmost label (config validation refuses it elsewhere),
    and then only a DNS-label organization is put there (ValueError otherwise)."""
    if "{org}" not in template:
        return template
    scheme, sep, rest = template.partition("://")
    host, slash, path = rest.partition("/")
    if "{org}" in host:
        host = host.replace("{org}", _label(org))
    return f"{scheme}{sep}{host}{slash}{path.replace('{org}', _segment(org))}"


def is_feed_host(host: str) -> bool:
    """A built-in Azure DevOps feed host (for messages about URLs that are not feed URLs)."""
    host = host.lower().rstrip(".")
    return host in _ORG_IN_PATH or _org_label(host) is not None


def _org_label(host: str) -> Optional[tuple[str, str]]:
    """(kind, label) for `{label}.<suffix>` of an org-in-host feed host, exactly one label."""
    for suffix, kind in _ORG_IN_HOST.items():
        label = host[: -len(suffix) - 1]
        if host.endswith("." + suffix) and label and "." not in label:
            return kind, label
    return None


def _split(service: str) -> Optional[tuple[str, str, str]]:
    """(scheme, authority, path) of a URL or scheme-less `host/path`; None for anything else."""
    if not service or len(service) > 4096 or any(c.isspace() for c in service):
        return None
    match = _SCHEME.match(service)
    if match:
        scheme, rest = match.group(1).lower(), service[match.end() :]
    else:
        scheme, rest = "https", service
    for stop in "?#":
        rest = rest.split(stop, 1)[0]
    authority, slash, path = rest.partition("/")
    if "\\" in authority:
        # urllib3 (so pip, twine) ends the authority at a backslash: `https://evil.io\@pkgs...`
        # is a request to evil.io, so it must never look like ours.
        return None
    authority = authority.rpartition("@")[2]  # userinfo is never part of the host
    if not authority:
        return None
    # Without a scheme only a dotted host looks like a URL (`poetry-repository-x` does not);
    # with one, single-label hosts (`https://tfs:8080/tfs/...`, `https://localhost/`) are fine.
    if not match and "." not in authority and not authority.startswith("["):
        return None
    return scheme, authority, slash + path


def _segments(path: str) -> list[str]:
    """The path's segments as written (still percent-encoded: `feed@view` is split on a literal
    `@` before decoding, so an encoded `%40` stays part of a name, where the rules refuse it)."""
    return [part for part in path.split("/") if part]


def _feed_parts(segments: list[str]) -> Optional[tuple[Optional[str], Optional[str], Optional[str], bool]]:
    """(project, feed, view, upload) from the (encoded) segments after the organization."""
    raw, segments = segments, [unquote(s) for s in segments]
    lowered = [s.lower() for s in segments]
    if "_packaging" not in lowered:
        # Organization (or organization/project) URL with no feed in it.
        if len(segments) > 1 or any(s.startswith("_") for s in segments):
            return None, None, None, False
        return (segments[0] if segments else None), None, None, False
    index = lowered.index("_packaging")
    if index > 1 or index + 1 >= len(segments):
        return None
    project = segments[0] if index == 1 else None
    if project is not None and project.startswith("_"):
        return None
    feed_part, _, view_part = raw[index + 1].partition("@")
    feed, view = unquote(feed_part), unquote(view_part)
    if not feed:
        return None
    tail = lowered[index + 2 :]
    upload = "upload" in tail[:2]
    return project, feed, view or None, upload


def _known_host(host: str) -> Optional[tuple[str, Optional[str]]]:
    """(kind, org-from-host) when the host is a Microsoft feed host."""
    if host in _ORG_IN_PATH:
        return _ORG_IN_PATH[host], None
    return _org_label(host)


def parse_service(service: object, rules: Iterable[HostRule] = ()) -> Optional[FeedRef]:
    """Recognise an Azure Artifacts service string; None for everything that is not ours,
    including a URL on our hosts whose names break Azure DevOps' naming rules."""
    ref = _candidate(service, rules)
    return ref if ref is not None and names_problem(ref) is None else None


def name_problem(service: object, rules: Iterable[HostRule] = ()) -> Optional[str]:
    """Which name makes a URL on one of our hosts not ours, and why (None when there is none)."""
    ref = _candidate(service, rules)
    return None if ref is None else names_problem(ref)


def names_problem(ref: FeedRef) -> Optional[str]:
    """The first of org, project, feed, view that breaks Azure DevOps' naming rules, described."""
    checks = (
        ("organization", ref.org, lambda n: org_problem(n, services=ref.kind != "configured")),
        ("project", ref.project, project_problem),
        ("feed", ref.feed, feed_problem),
        ("view", ref.view, feed_problem),
    )
    for kind, name, problem in checks:
        why = None if name is None else problem(name)
        if why is not None:
            return describe(kind, name or "", why)
    return None


def _candidate(service: object, rules: Iterable[HostRule]) -> Optional[FeedRef]:
    """The FeedRef a string would be on one of our hosts, its names not yet checked."""
    if not isinstance(service, str):
        return None
    parts = _split(service)
    if parts is None:
        return None
    scheme, authority, path = parts
    try:
        host, port = parse_host(authority)
    except ValueError:
        return None
    host = host.rstrip(".")
    known = _known_host(host)
    if known is not None:
        # Azure DevOps Services serve feeds on https's default port only: `pkgs.dev.azure.com:8443`
        # is somebody else's server, and must never be sent a token for a Microsoft feed.
        if scheme != "https" or port not in (None, 443):
            return None
        kind, org = known
        return _build(service, scheme, host, port, kind, org, "", _segments(path))
    for rule in rules:
        ref = _match_rule(service, scheme, host, port, path, rule)
        if ref is not None:
            return ref
    return None


def _match_rule(
    service: str, scheme: str, host: str, port: Optional[int], path: str, rule: HostRule
) -> Optional[FeedRef]:
    if not host_matches(host, rule.host):
        return None
    if rule.port is not None and (port or (443 if scheme == "https" else 80)) != rule.port:
        return None
    if scheme != "https" and not (scheme == "http" and rule.allow_http):
        return None
    segments = _segments(path)
    prefix = _segments(rule.path_prefix)
    if [unquote(s).lower() for s in segments[: len(prefix)]] != [unquote(p).lower() for p in prefix]:
        return None
    return _build(service, scheme, host, port, "configured", None, rule.path_prefix, segments[len(prefix) :])


def _build(
    service: str,
    scheme: str,
    host: str,
    port: Optional[int],
    kind: str,
    org: Optional[str],
    path_prefix: str,
    segments: list[str],
) -> Optional[FeedRef]:
    if org is None:
        if not segments or unquote(segments[0]).startswith("_"):
            return None
        org, segments = unquote(segments[0]), segments[1:]
    parts = _feed_parts(segments)
    if parts is None:
        return None
    project, feed, view, upload = parts
    return FeedRef(
        service=service,
        scheme=scheme,
        host=host,
        port=port,
        org=org,
        project=project,
        feed=feed,
        view=view,
        upload=upload,
        kind=kind,
        path_prefix=path_prefix,
    )


def is_url_shaped(service: object) -> bool:
    """A URL or scheme-less `host/path` (not `poetry-repository-x`, not an empty string)."""
    return isinstance(service, str) and _split(service) is not None


def could_be_configured(service: object) -> bool:
    """Cheap pre-check before reading the config for `host` sections: a URL-shaped string whose
    host is not a built-in one (those never match a `host` section, so a built-in URL that is not
    ours, such as one with an invalid name, is refused without reading anything)."""
    parts = _split(service) if isinstance(service, str) else None
    if parts is None:
        return False
    try:
        host = parse_host(parts[1])[0].rstrip(".")
    except ValueError:
        return True
    return _known_host(host) is None
