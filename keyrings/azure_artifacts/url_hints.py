"""What is wrong with a URL on an Azure DevOps host that is not a feed URL as written, and the
URL that was probably meant: `_packging`, `pypi/simpel`, `http://`, an organization-only URL.

Stdlib only, and only for URLs on a built-in feed host or a host a `host` section declares:
anything else never gets here (a foreign lookup must stay cheap).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Callable, Optional
from urllib.parse import urlsplit

from . import urls

if TYPE_CHECKING:
    from .urls import FeedRef, HostRule

CONNECT = "copy the URL from the feed's Connect to feed page"
# Words in hosts that look like Azure DevOps but are not a feed host of it.
_LOOKS_LIKE = ("azure", "visualstudio.com", "codedev.ms", "codeapp.ms", "vsts.me")
_PROTOCOLS = ("pypi", "nuget", "npm", "maven", "upack", "cargo")


def on_our_host(service: str, rules: Iterable[HostRule] = ()) -> bool:
    """Is the URL's host a built-in feed host or one a host section declares (any scheme/port)?"""
    try:
        host = (urlsplit(service if "://" in service else f"https://{service}").hostname or "").rstrip(".")
    except ValueError:
        return False
    if not host:
        return False
    if any(urls.host_matches(host, known) for known in urls.FEED_HOSTS):
        return True
    return any(urls.host_matches(host, rule.host) for rule in rules)


def hint(service: str, ref: Optional[FeedRef], rules: Iterable[HostRule] = ()) -> Optional[str]:
    """One sentence naming the problem, with `did you mean URL?` where one can be built; None
    when the URL reads as a feed URL (or is not on our hosts)."""
    rules = list(rules)
    if not on_our_host(service, rules):
        return None
    parts = urlsplit(service if "://" in service else f"https://{service}")
    if ref is None and parts.scheme.lower() == "http":
        fixed = parts._replace(scheme="https").geturl()
        if urls.parse_service(fixed, rules) is not None:
            return f"{service}: http: a token is only ever sent over https (did you mean {fixed}?)"
    segments = parts.path.split("/")
    for index, segment in enumerate(segments):
        if segment.lower() != "_packaging" and _close(segment.lower(), "_packaging"):
            return _did_you_mean(service, parts, segments, index, "_packaging", rules)
    lowered = [s.lower() for s in segments]
    if "_packaging" in lowered:
        tail = [i for i in range(lowered.index("_packaging") + 2, len(segments)) if segments[i]]
        if tail:
            first = tail[0]
            if lowered[first] not in _PROTOCOLS and _close(lowered[first], "pypi"):
                return _did_you_mean(service, parts, segments, first, "pypi", rules)
            if lowered[first] == "pypi" and len(tail) > 1:
                second = tail[1]
                if lowered[second] not in ("simple", "upload", "download") and _close(
                    lowered[second], "simple"
                ):
                    return _did_you_mean(service, parts, segments, second, "simple", rules)
    if ref is not None and ref.feed is None:
        where = f"{ref.org}/{ref.project}" if ref.project else ref.org
        example = f"https://{ref.netloc}{ref.path_prefix}/{where}/_packaging/FEED/pypi/simple/"
        return (
            f"{service} names organization {ref.org} but no feed: a feed's index URL is {example} ({CONNECT})"
        )
    return None


def _close(word: str, target: str) -> bool:
    if (word, target) == ("pip", "pypi"):
        return True
    if not word or abs(len(word) - len(target)) > 3:
        return False
    import difflib  # only when a segment is suspicious

    return difflib.SequenceMatcher(None, word, target).ratio() >= 0.75


def _did_you_mean(
    service: str, parts: object, segments: list[str], index: int, word: str, rules: list[HostRule]
) -> str:
    fixed_segments = [*segments[:index], word, *segments[index + 1 :]]
    fixed = parts._replace(path="/".join(fixed_segments)).geturl()  # type: ignore[attr-defined]
    return f"{service}: '{segments[index]}' is not '{word}' (did you mean {fixed}?)"


def why_not_ours(url: str, recognised: Callable[[str], bool]) -> tuple[str, str]:
    """(what is wrong, the fix) for a URL the backend returns nothing for; `recognised` tells
    whether a URL is ours (with the configuration's host sections)."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    try:
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return f"{url}: the port is not a number", CONNECT

    def ours(netloc: str) -> bool:
        return recognised(parts._replace(scheme="https", netloc=netloc).geturl())

    if parts.scheme.lower() == "http" and ours(parts.netloc):
        return "http: a token is only ever sent over https", "use https://" + url.split("://", 1)[1]
    if port and ours(host):
        return f"{host} on port {port}: feeds are served on port 443 only", f"remove :{port} from the URL"
    if urls.is_feed_host(host):
        return (
            "not a feed URL: expected https://pkgs.dev.azure.com/ORG[/PROJECT]/_packaging/FEED/...",
            CONNECT,
        )
    if any(word in host for word in _LOOKS_LIKE):
        return f"{host} only looks like Azure DevOps (look-alike hosts never get a token)", CONNECT
    return (
        f"{host or url} is not an Azure DevOps host and no [artifacts host=...] section declares it",
        f'for Azure DevOps Server add [artifacts host="{parts.netloc or url}"] to keyringrc.cfg',
    )
